// Package tier defines what one memory tier is to the tiermem Manager: a
// Store that keeps values under string keys. The backends live in the
// sub-packages: tier/heap (live Go memory), tier/offheap (RAM outside the Go
// heap), tier/disk (a log-structured store on local disk) and, later,
// tier/object (object storage) and tier/gpu.
//
// A Store keeps bytes; it does not enforce a byte budget, choose victims or
// move values: the Manager does, from the sizes that Put reports. Every
// Store is safe for concurrent use.
package tier
