package server

import "github.com/tiermem/tiermem/server/internal/authlimit"

// authState is what a Server keeps to slow down password guessing: the
// limiter of attempts by client address (wrongPassPause after a failure),
// and the limit on the log lines of failures.
type authState struct {
	limit  *authlimit.Limiter
	logged authlimit.LogLimit
}

// authOf returns s's authState.
func (s *Server) authOf() *authState { return &s.auth }
