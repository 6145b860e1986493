package web_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestNPYBoolBytesAreCanonical: a .npy file of dtype |b1 may hold
// bytes other than 0 and 1 (np.array([2], np.uint8).view(bool) saves as
// such; NumPy reads any non-zero byte as True). Stored as they are, they
// make an Array whose Bools() are not Go bools: a byte 2 reads as true
// and its negation as true too, and counting the trues of [2, 0] gives 2.
// The PUT must either store NumPy's meaning (non-zero -> 1) or refuse the
// file with a 400, never store a Bool array Go cannot read.
func TestNPYBoolBytesAreCanonical(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	resp, body := do(t, http.MethodPut, srv.URL+"/v1/arrays/flags", bytes.NewReader(npyFile("|b1", "(4,)", []byte{2, 0, 0xff, 1})))
	switch resp.StatusCode {
	case http.StatusBadRequest:
		return
	case http.StatusCreated, http.StatusNoContent:
	default:
		t.Fatalf("PUT of a bool array with bytes 2 and 255: %s %s; want 204 or 400", resp.Status, body)
	}
	a, err := m.RetrieveArray("flags")
	if err != nil || a.DType != tiermem.Bool {
		t.Fatalf("RetrieveArray: %v %v", a, err)
	}
	if !bytes.Equal(a.Data, []byte{1, 0, 1, 1}) {
		t.Errorf("bool array stored as bytes %v; want [1 0 1 1] (NumPy's True is any non-zero byte, Go's is 1)", a.Data)
	}
}

// TestNPYUnknownMinorVersionRefused: NumPy reads format versions
// (1, 0), (2, 0) and (3, 0) only ("we only support format version (1,0),
// (2,0), and (3,0), not (1, 5)"): a file of version 1.5 is not one it
// reads, and not one the server should store as an array either.
func TestNPYUnknownMinorVersionRefused(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	file := npyFile("<f8", "(2,)", make([]byte, 16))
	file[7] = 5 // version 1.5
	resp, body := do(t, http.MethodPut, srv.URL+"/v1/arrays/v", bytes.NewReader(file))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("PUT of a .npy file of version 1.5: %s %s; want 400 as for version 4.0 (numpy.load refuses it)", resp.Status, body)
	}
	if _, err := m.RetrieveArray("v"); err == nil {
		t.Errorf("a .npy file of version 1.5 was stored")
	}
}

// TestNumPyFormatVersionsAndByteOrders has NumPy write what
// TestArrayNumPy does not: files of format version 2.0 and 3.0
// (numpy.lib.format.write_array(version=...), what NumPy writes for large
// headers), big-endian complex (each half swapped) and unsigned values,
// a 0-d array, and many dimensions; each PUT is read back by numpy.load
// with its dtype, shape and values. A Fortran-ordered array is a 400 that
// says so.
func TestNumPyFormatVersionsAndByteOrders(t *testing.T) {
	python := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("skipped: no python3 with numpy")
	}
	_, srv := newServer(t, nil, web.Config{})
	script := `
import io, sys, urllib.request, urllib.error, numpy as np
from numpy.lib import format as F
base = sys.argv[1]
def put(name, data):
    req = urllib.request.Request(base + "/v1/arrays/" + name, data=data, method="PUT")
    try:
        return urllib.request.urlopen(req).status, b""
    except urllib.error.HTTPError as e:
        return e.code, e.read()
def check(name, arr, version=None):
    buf = io.BytesIO()
    if version: F.write_array(buf, arr, version=version)
    else: np.save(buf, arr)
    st, body = put(name, buf.getvalue())
    if st not in (201, 204):
        print("FAIL", name, st, body); return
    back = np.load(io.BytesIO(urllib.request.urlopen(base + "/v1/arrays/" + name).read()))
    if back.shape != arr.shape or back.dtype.newbyteorder('<') != arr.dtype.newbyteorder('<') or not (back == arr).all():
        print("FAIL", name, back.dtype, back.shape, back, "want", arr.dtype, arr.shape, arr)
check("v2", np.arange(6, dtype='<i4').reshape(2, 3), (2, 0))
check("v3", np.arange(6, dtype='<f4').reshape(3, 2), (3, 0))
check("c8be", np.array([1+2j, -3.5+4j], dtype='>c8'))
check("c16be", np.array([1+2j, -3.5e300+4j], dtype='>c16'))
check("u2be", np.array([1, 65534], dtype='>u2'))
check("zero_d", np.array(3.5))
check("dims32", np.arange(2.0).reshape((1,)*31 + (2,)))
buf = io.BytesIO(); np.save(buf, np.arange(6).reshape(2, 3).T)
st, body = put("fortran", buf.getvalue())
if st != 400 or b"fortran_order" not in body:
    print("FAIL fortran", st, body)
print("done")
`
	path := filepath.Join(t.TempDir(), "check.py")
	must(t, os.WriteFile(path, []byte(script), 0o644))
	out, err := exec.Command(python, path, srv.URL).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "done" {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
}
