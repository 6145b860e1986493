package web_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// npyFile builds a .npy file by NumPy's format spec (version 1.0): the
// magic, the version, the header's length, the header dict padded with
// spaces and ended by a newline so that the data starts at a multiple of
// 64 bytes, then the data.
func npyFile(descr, shape string, data []byte) []byte {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	header := dict + strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestArrayGetExactBytes(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	data := []float64{1, 2.5, -3, 4, 5, 6}
	if err := m.StoreArray("matrix", tiermem.Float64Array(data, 2, 3)); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	binary.Write(&raw, binary.LittleEndian, data)
	want := npyFile("<f8", "(2, 3)", raw.Bytes())

	resp, body := do(t, "GET", srv.URL+"/v1/arrays/matrix", nil)
	wantStatus(t, resp, body, 200, "")
	if !bytes.Equal(body, want) {
		t.Fatalf("GET array:\n%q\nwant (NumPy's format spec)\n%q", body, want)
	}
	if (len(body)-len(raw.Bytes()))%64 != 0 {
		t.Fatalf("data starts at %d, not a multiple of 64", len(body)-len(raw.Bytes()))
	}
	if resp.Header.Get("X-Tiermem-Dtype") != "float64" || resp.Header.Get("ETag") == "" {
		t.Fatalf("headers %v", resp.Header)
	}
	resp, body = do(t, "GET", srv.URL+"/v1/arrays/matrix", nil, "If-None-Match", resp.Header.Get("ETag"))
	wantStatus(t, resp, body, 304, "")
	resp, body = do(t, "GET", srv.URL+"/v1/arrays/matrix", nil, "Range", "bytes=128-135")
	wantStatus(t, resp, body, 206, "")
	if !bytes.Equal(body, raw.Bytes()[0:8]) {
		t.Fatalf("range of the data: %q", body)
	}

	// A one-dimensional array's shape is written (n,).
	if err := m.StoreArray("vec", tiermem.Int8Array([]int8{-1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	_, body = do(t, "GET", srv.URL+"/v1/arrays/vec", nil)
	if want := npyFile("|i1", "(3,)", []byte{0xff, 2, 3}); !bytes.Equal(body, want) {
		t.Fatalf("GET int8 vector: %q, want %q", body, want)
	}

	// Bytes are not an array.
	do(t, "PUT", keyURL(srv, "plain"), strings.NewReader("bytes"))
	resp, body = do(t, "GET", srv.URL+"/v1/arrays/plain", nil)
	wantStatus(t, resp, body, 409, `"plain" is not an array`)
	resp, body = do(t, "GET", srv.URL+"/v1/arrays/absent", nil)
	wantStatus(t, resp, body, 404, "not found")
}

func TestArrayPutRoundTrip(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, c := range []struct {
		descr, shape string
		dtype        tiermem.DType
		dims         []int
		elem         int
	}{
		{"<f8", "(2, 3)", tiermem.Float64, []int{2, 3}, 8},
		{"<f4", "(4,)", tiermem.Float32, []int{4}, 4},
		{"<i8", "(1, 1, 2)", tiermem.Int64, []int{1, 1, 2}, 8},
		{"<i4", "(3,)", tiermem.Int32, []int{3}, 4},
		{"<i2", "(2,)", tiermem.Int16, []int{2}, 2},
		{"|i1", "(5,)", tiermem.Int8, []int{5}, 1},
		{"<u8", "(2,)", tiermem.Uint64, []int{2}, 8},
		{"<u4", "(2,)", tiermem.Uint32, []int{2}, 4},
		{"<u2", "(2,)", tiermem.Uint16, []int{2}, 2},
		{"|u1", "(7,)", tiermem.Uint8, []int{7}, 1},
		{"|b1", "(2, 2)", tiermem.Bool, []int{2, 2}, 1},
		{"<c8", "(2,)", tiermem.Complex64, []int{2}, 8},
		{"<c16", "(1,)", tiermem.Complex128, []int{1}, 16},
		{"<f8", "(0, 3)", tiermem.Float64, []int{0, 3}, 8},
	} {
		n := c.elem
		for _, d := range c.dims {
			n *= d
		}
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 37)
			if c.dtype == tiermem.Bool {
				data[i] &= 1
			}
		}
		file := npyFile(c.descr, c.shape, data)
		key := "a" + c.descr + c.shape
		resp, body := do(t, "PUT", srv.URL+"/v1/arrays/"+strings.NewReplacer("<", "%3C", "|", "%7C", " ", "%20").Replace(key)+"?tier=warm", bytes.NewReader(file))
		wantStatus(t, resp, body, http.StatusCreated, "")
		a, err := m.RetrieveArray(key)
		if err != nil || a.DType != c.dtype || fmt.Sprint(a.Shape) != fmt.Sprint(c.dims) || !bytes.Equal(a.Data, data) {
			t.Fatalf("%s %s: stored %v %v, %v", c.descr, c.shape, a, err, a.Data)
		}
		if tr, _ := m.Tier(key); tr != tiermem.Warm {
			t.Fatalf("?tier=warm: %v", tr)
		}
		_, body = do(t, "GET", srv.URL+"/v1/arrays/"+strings.NewReplacer("<", "%3C", "|", "%7C", " ", "%20").Replace(key), nil)
		if !bytes.Equal(body, file) {
			t.Fatalf("%s %s: GET %q, want the file PUT %q", c.descr, c.shape, body, file)
		}
	}
	// Big-endian elements are swapped to the machine's order.
	resp, body := do(t, "PUT", srv.URL+"/v1/arrays/be", bytes.NewReader(npyFile(">i4", "(2,)", []byte{0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe})))
	wantStatus(t, resp, body, http.StatusCreated, "")
	a, err := m.RetrieveArray("be")
	if v, _ := a.Int32s(); err != nil || len(v) != 2 || v[0] != 258 || v[1] != -2 {
		t.Fatalf(">i4: %v, %v", v, err)
	}
}

func TestArrayPutBad(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	good := npyFile("<f8", "(2,)", make([]byte, 16))
	for _, c := range []struct {
		name string
		body []byte
		msg  string
	}{
		{"empty", nil, "magic"},
		{"magic", []byte("\x93NUMPZ\x01\x00\x10\x00"), "magic"},
		{"version", append([]byte("\x93NUMPY\x04\x00"), good[8:]...), "version 4.0"},
		{"header past end", []byte("\x93NUMPY\x01\x00\xff\x00{}"), "past the end"},
		{"fortran", bytes.Replace(good, []byte("False"), []byte("True "), 1), "fortran_order True"},
		{"dtype", npyFile("<f2", "(8,)", make([]byte, 16)), `dtype "<f2"`},
		{"object dtype", npyFile("|O", "(2,)", make([]byte, 16)), `dtype "|O"`},
		{"byte order", npyFile("!f8", "(2,)", make([]byte, 16)), "byte order"},
		{"short data", npyFile("<f8", "(3,)", make([]byte, 16)), "needs 24 data bytes, the file has 16"},
		{"long data", npyFile("<f8", "(1,)", make([]byte, 16)), "needs 8 data bytes"},
		{"huge shape", npyFile("<f8", "(281474976710656, 281474976710656)", nil), "larger than any array"},
		{"not a tuple", npyFile("<f8", "(2)", make([]byte, 16)), "not a tuple"},
		{"negative", npyFile("<f8", "(-2,)", make([]byte, 16)), "non-negative"},
		{"unknown key", bytes.Replace(good, []byte("'shape'"), []byte("'shope'"), 1), `unknown key "shope"`},
	} {
		resp, body := do(t, "PUT", srv.URL+"/v1/arrays/bad", bytes.NewReader(c.body))
		var e struct{ Error string }
		jsonUnmarshal(body, &e)
		if resp.StatusCode != 400 || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: %d %s, want 400 and %q", c.name, resp.StatusCode, body, c.msg)
		}
	}
}

// TestArrayNumPy has NumPy itself read what GET serves and write what PUT
// takes.
func TestArrayNumPy(t *testing.T) {
	python := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("skipped: no python3 with numpy (apt-get install python3-numpy) to read the served .npy files")
	}
	m, srv := newServer(t, nil, web.Config{})
	if err := m.StoreArray("m", tiermem.Float32Array([]float32{1, 2, 3, 4, 5, 6}, 3, 2)); err != nil {
		t.Fatal(err)
	}
	script := `
import io, sys, urllib.request, urllib.error, numpy as np
base = sys.argv[1]
a = np.load(io.BytesIO(urllib.request.urlopen(base + "/v1/arrays/m").read()))
assert a.dtype == np.float32 and a.shape == (3, 2) and a.tolist() == [[1, 2], [3, 4], [5, 6]], (a.dtype, a.shape, a)
for arr in [np.arange(12, dtype=np.int16).reshape(3, 4), np.array([True, False]), np.array([1+2j], dtype=np.complex64),
            np.zeros((2, 0, 3), dtype='>f8'), np.arange(5, dtype='>i8')]:
    buf = io.BytesIO(); np.save(buf, arr)
    req = urllib.request.Request(base + "/v1/arrays/p", data=buf.getvalue(), method="PUT")
    try:
        assert urllib.request.urlopen(req).status in (201, 204)
    except urllib.error.HTTPError as e:
        sys.exit("PUT %r: %s %s" % (arr, e, e.read()))
    back = np.load(io.BytesIO(urllib.request.urlopen(base + "/v1/arrays/p").read()))
    assert back.shape == arr.shape and (back == arr).all() and back.dtype.newbyteorder('<') == arr.dtype.newbyteorder('<'), (arr, back)
print("ok")
`
	dir := t.TempDir()
	path := filepath.Join(dir, "check.py")
	os.WriteFile(path, []byte(script), 0o644)
	out, err := exec.Command(python, path, srv.URL).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
}
