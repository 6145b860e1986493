package alloc

// ClassSizes exposes the size-class table for tests.
var ClassSizes = classSizes
