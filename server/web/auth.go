package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tiermem/tiermem/server/internal/authlimit"
)

// authenticator checks a request's password against the handler's
// password now: Config.Password's, or what PasswordFrom's function says.
type authenticator struct {
	source atomic.Pointer[func() string] // the password now; "" for none
	last   atomic.Pointer[passwordSum]   // of the password source last gave
	// limit throttles the attempts of each client address after a wrong
	// password (FailedAuthDelay).
	limit *authlimit.Limiter
	// logged lets one "wrong password" line a second through.
	logged authlimit.LogLimit
}

// passwordSum is a password with its sum.
type passwordSum struct {
	password string
	sum      [sha256.Size]byte // comparing sums hides the password's length
}

func newAuthenticator(password string) *authenticator {
	a := &authenticator{limit: authlimit.New(FailedAuthDelay)}
	a.from(func() string { return password })
	return a
}

// from makes source the password's source.
func (a *authenticator) from(source func() string) { a.source.Store(&source) }

// current returns the password now with its sum, or nil for none.
func (a *authenticator) current() *passwordSum {
	p := (*a.source.Load())()
	if p == "" {
		return nil
	}
	if last := a.last.Load(); last != nil && last.password == p {
		return last
	}
	ps := &passwordSum{password: p, sum: sha256.Sum256([]byte(p))}
	a.last.Store(ps)
	return ps
}

// PasswordFrom makes the handler ask password for the password at every
// request, in place of Config.Password ("" for none: then a request must
// name an allowed host, as without Config.Password). Give it a RESP
// server's (server.Server.Password), as `tiermem serve` does, so that its
// CONFIG SET requirepass sets, changes or clears the password of both
// protocols at once. password must be safe for concurrent use and quick:
// it is called once a request. PasswordFrom is safe for concurrent use.
func (h *Handler) PasswordFrom(password func() string) { h.auth.from(password) }

// check reports whether header, an Authorization header's value, carries
// the password: "Bearer <password>" or "Basic base64(<user>:<password>)".
// given reports whether it carried any credentials at all.
func (a *passwordSum) check(header string) (ok, given bool) {
	scheme, cred, found := strings.Cut(header, " ")
	if !found {
		return false, header != ""
	}
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return a.equal(cred), true
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false, true
		}
		_, password, found := strings.Cut(string(raw), ":")
		return found && a.equal(password), true
	}
	return false, true
}

func (a *passwordSum) equal(password string) bool {
	sum := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(sum[:], a.sum[:]) == 1
}

// authorized reports whether r may be served; if not, it has answered 401
// with the schemes the handler takes. A request that carries credentials
// is an attempt: it waits its turn and FailedAuthDelay after its client
// address's last wrong password (authlimit) before they are checked.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if h.auth.current() == nil {
		return h.hostAllowed(w, r)
	}
	header := r.Header.Get("Authorization")
	msg := ErrUnauthorized.Error() + ": this path needs the password: Authorization: Bearer <password>, or basic auth"
	if header != "" {
		at, err := h.auth.limit.Begin(r.Context(), r.RemoteAddr, nil)
		if err != nil { // the client left while its attempt waited: nothing checked
			h.metrics.countResponse(http.StatusUnauthorized)
			writeError(w, http.StatusUnauthorized, ErrUnauthorized.Error()+": the password was not checked: the request ended while it waited its turn")
			return false
		}
		pw := h.auth.current() // the password now, after the wait
		if pw == nil {
			at.End(false)
			return h.hostAllowed(w, r)
		}
		ok, _ := pw.check(header)
		at.End(!ok)
		if ok {
			return true
		}
		// Logged without the credentials, one line a second at most.
		if log, held := h.auth.logged.Allow(); log {
			h.log.Warn("web: wrong password", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "not_logged_since", held)
		}
		msg = ErrUnauthorized.Error() + ": wrong password"
	}
	w.Header().Add("WWW-Authenticate", `Basic realm="tiermem", charset="UTF-8"`)
	w.Header().Add("WWW-Authenticate", `Bearer realm="tiermem"`)
	h.metrics.countResponse(http.StatusUnauthorized)
	writeError(w, http.StatusUnauthorized, msg)
	return false
}

// hostAllowed checks, when no password is set, that the request names
// this server as a client on the machine or the network would: by an IP
// address, "localhost" (or a name under it), or a name in
// Config.AllowedHosts. A web page the user visits can rebind its own
// domain name to 127.0.0.1 and make the browser send requests to the API
// under that name (DNS rebinding): without a password nothing else would
// stop it reading and changing every key. Such a request gets 403.
func (h *Handler) hostAllowed(w http.ResponseWriter, r *http.Request) bool {
	host := r.Host
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil ||
		slices.Contains(h.cfg.AllowedHosts, host) {
		return true
	}
	h.log.Warn("web: a request for a host name this server does not answer to (DNS rebinding?)", "remote", r.RemoteAddr, "host", r.Host)
	h.metrics.countResponse(http.StatusForbidden)
	writeError(w, http.StatusForbidden, fmt.Sprintf("%s: host %q: without a password this server answers to its IP addresses, localhost and Config.AllowedHosts (--http-allowed-hosts) only", ErrForbiddenHost, r.Host))
	return false
}
