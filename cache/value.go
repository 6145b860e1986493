package cache

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// In-place updates. A Set that replaces the value of a live key of the same
// weight rewrites the value inside the existing entry instead of publishing a
// new one, so that it allocates nothing and the entry keeps its place in memory
// (and in the readers' caches). That is possible when V holds no pointers: the
// value is then copied in 8-byte words with atomic loads and stores under a
// sequence lock (the entry's seq is odd while a writer is at work; a reader
// retries if seq changed under it; seq is 32 bits, in the word the policy's
// node leaves free, so a reader would have to stall through 2^31 rewrites of
// one value to be fooled). Values with pointers are never rewritten: their
// entries are replaced whole, under the cache's lock.

// valueWords returns how many 8-byte words hold a V, and false if V holds
// pointers and so cannot be copied word by word.
func valueWords[V any]() (int, bool) {
	t := reflect.TypeFor[V]()
	if hasPointers(t) {
		return 0, false
	}
	return int((t.Size() + 7) / 8), true
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}

// paddedValue is a V followed by padding to a whole number of words, so that
// word copies to and from a local variable stay inside it. (In an entry, the
// value is followed by expire, whose alignment pads it the same way.)
type paddedValue[V any] struct {
	v V
	_ [0]uint64
}

// load returns e's value. words is the cache's valueWords, or -1 when values
// are never rewritten in place (then the value is read directly).
func (e *entry[K, V]) load(words int) V {
	if words < 0 {
		return e.value
	}
	for {
		s := e.seq.Load()
		if s&1 == 0 {
			var out paddedValue[V]
			if words == 1 { // the common case of a number, spelled out for speed
				*(*uint64)(unsafe.Pointer(&out)) = atomic.LoadUint64((*uint64)(unsafe.Pointer(&e.value)))
			} else {
				copyWords(unsafe.Pointer(&out), unsafe.Pointer(&e.value), words, false)
			}
			if e.seq.Load() == s {
				return out.v
			}
		}
	}
}

// store rewrites e's value in place; the caller holds the lock of e's shard and
// words is at least 0.
func (e *entry[K, V]) store(v V, words int) {
	in := paddedValue[V]{v: v}
	e.seq.Add(1)
	copyWords(unsafe.Pointer(&e.value), unsafe.Pointer(&in), words, true)
	e.seq.Add(1)
}

// copyWords copies n words from src to dst, atomically on the entry's side:
// stores to dst when toEntry, else loads from src.
func copyWords(dst, src unsafe.Pointer, n int, toEntry bool) {
	for i := range n {
		d := (*uint64)(unsafe.Add(dst, i*8))
		s := (*uint64)(unsafe.Add(src, i*8))
		if toEntry {
			atomic.StoreUint64(d, *s)
		} else {
			*d = atomic.LoadUint64(s)
		}
	}
}
