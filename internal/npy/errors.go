package npy

import "errors"

// ErrInvalid is returned, wrapped with what is wrong, by Write for an
// array no .npy file can describe: a negative dimension, a descr that is
// not a plain type string of a known item size, data whose length is not
// the shape's.
var ErrInvalid = errors.New("npy: invalid array")
