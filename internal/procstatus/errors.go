package procstatus

import "errors"

// ErrNoField is returned for a field /proc/self/status does not have.
var ErrNoField = errors.New("procstatus: no such field in /proc/self/status")
