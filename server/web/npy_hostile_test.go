package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestHostileNPYShapeNumPyRefusesIs400: PUT /v1/arrays of a .npy whose
// shape has a zero dimension beside dimensions whose product overflows,
// (0, 2**48, 2**48), which numpy.load refuses ("array is too big") as
// the Manager does, is a malformed .npy file: 400 ErrNPY, not the 409
// "value of another type" doc.go gives an array read of a value that is
// not one. A shape with a zero dimension whose other dimensions fit is an
// empty array, stored (201).
func TestHostileNPYShapeNumPyRefusesIs400(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	for _, shape := range []string{
		fmt.Sprintf("(0, %d, %d)", 1<<48, 1<<48),
		fmt.Sprintf("(%d, %d, 0)", 1<<48, 1<<48),
		fmt.Sprintf("(%d, 0, %d, 3)", 1<<40, 1<<40),
	} {
		resp, body := do(t, "PUT", srv.URL+"/v1/arrays/a", bytes.NewReader(npyFile("<f8", shape, nil)))
		wantStatus(t, resp, body, http.StatusBadRequest, "not a readable .npy file")
	}
	resp, body := do(t, "PUT", srv.URL+"/v1/arrays/empty", bytes.NewReader(npyFile("<f8", fmt.Sprintf("(0, %d, %d)", 1<<24, 1<<24), nil)))
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT of an empty array whose other dimensions fit: %d %s, want 201", resp.StatusCode, body)
	}
}
