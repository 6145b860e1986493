package record_test

import "unsafe"

// uintptrOf returns the address of a slice's first element.
func uintptrOf[T any](s []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }
