package memory

// Mincore is mincore(2) on b, one byte of vec per page: bit 0 says resident.
var Mincore = mincore
