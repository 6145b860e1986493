package observe

import "errors"

var (
	// ErrStopped is returned by Stop, Apply and Sample of an Optimizer that
	// has already been stopped.
	ErrStopped = errors.New("observe: optimizer stopped")

	// ErrOptions is returned by Start for options that cannot work: a
	// negative interval, a ring or window too small to compute a trend, a
	// threshold outside its range.
	ErrOptions = errors.New("observe: invalid options")

	// ErrFormat is returned by ReadReport for input that is not a report
	// this package wrote: not JSON, another kind of document, or a version
	// it does not know.
	ErrFormat = errors.New("observe: not a report")
)
