package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tiermem/tiermem"
)

// errorBody is the JSON body of every error reply.
type errorBody struct {
	Error  string `json:"error"`  // what was wrong, for a person
	Status int    `json:"status"` // the HTTP status code, repeated
}

// writeError answers status with a JSON body whose message is msg.
func writeError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	h.Del("ETag")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // a JSON reply, never sniffed as HTML (nosniff)
	enc.Encode(errorBody{Error: msg, Status: status})
}

// statusOf maps an error of the Manager or of this package to a status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBodyTooLarge), errors.Is(err, tiermem.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, tiermem.ErrNoSpace):
		return http.StatusInsufficientStorage
	case errors.Is(err, tiermem.ErrClosed), errors.Is(err, tiermem.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, tiermem.ErrType):
		return http.StatusConflict
	case errors.Is(err, ErrPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrBodyStalled):
		return http.StatusRequestTimeout
	case errors.Is(err, ErrBadKey), errors.Is(err, ErrBadParam), errors.Is(err, ErrBadBody),
		errors.Is(err, ErrNPY), errors.Is(err, tiermem.ErrInvalidKey),
		errors.Is(err, tiermem.ErrUnknownTier), errors.Is(err, tiermem.ErrOptions):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// fail answers err with its status; server errors are logged.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 && status != http.StatusServiceUnavailable && status != http.StatusInsufficientStorage {
		h.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, status, err.Error())
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}
