package machine

// AvailableRAMUnder is AvailableRAM reading proc and the cgroup files under root.
var AvailableRAMUnder = availableRAM

// MinAvailableRAM is the least AvailableRAM returns.
const MinAvailableRAM = minAvailableRAM
