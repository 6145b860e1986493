package web

import "errors"

var (
	// ErrUnauthorized is returned (as a 401 reply) for a request without the
	// password, or with a wrong one, when Config.Password is set.
	ErrUnauthorized = errors.New("web: unauthorized")

	// ErrForbiddenHost is returned (as a 403 reply), when no password is
	// set, for a request whose Host names neither an IP address,
	// localhost, nor a name in Config.AllowedHosts (a DNS rebinding page).
	ErrForbiddenHost = errors.New("web: host not allowed")

	// ErrBadKey is returned (as a 400 reply) for a key path that is empty,
	// badly escaped, or longer than a key may be.
	ErrBadKey = errors.New("web: bad key")

	// ErrBadParam is returned (as a 400 reply) for a query parameter that
	// cannot be parsed: an unknown tier, a TTL that is not a positive
	// duration, a count that is not a positive integer.
	ErrBadParam = errors.New("web: bad parameter")

	// ErrBodyTooLarge is returned (as a 413 reply) for a request body longer
	// than Config.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("web: request body too large")

	// ErrBadBody is returned (as a 400 reply) for a body shorter than its
	// Content-Length, or cut off by the client.
	ErrBadBody = errors.New("web: bad request body")

	// ErrBodyStalled is returned (as a 408 reply) for a request whose body
	// sent nothing for Config.BodyIdleTimeout: a stalled upload gives back
	// the room its value held, and stores nothing.
	ErrBodyStalled = errors.New("web: request body stalled")

	// ErrNPY is returned (as a 400 reply) for an array body that is not a
	// NumPy .npy file this server reads: a bad magic or version, a header
	// that is not the dict NumPy writes, a dtype tiermem has no element type
	// for, Fortran order, a shape NumPy refuses as too big, or data whose
	// length does not match the shape.
	ErrNPY = errors.New("web: not a readable .npy file")

	// ErrPrecondition is returned (as a 412 reply) for a PUT or DELETE
	// whose If-Match or If-None-Match does not hold for what the key holds
	// when it would be written: nothing is changed.
	ErrPrecondition = errors.New("web: precondition failed")

	// ErrConfig is returned by New for a Config that cannot work (a
	// negative MaxBodyBytes, a nil Manager) or metrics that cannot be
	// registered with Config.Registerer.
	ErrConfig = errors.New("web: invalid config")
)
