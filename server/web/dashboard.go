package web

import (
	_ "embed"
	"net/http"
)

// dashboardHTML is the dashboard: one page, its script and style inline,
// that fetches nothing but this handler's JSON.
//
//go:embed dashboard/index.html
var dashboardHTML []byte

// dashboardCSP lets the page run its own inline script and style and
// fetch from its own origin, and nothing else.
const dashboardCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func serveDashboard(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", dashboardCSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-cache")
	w.Write(dashboardHTML)
}
