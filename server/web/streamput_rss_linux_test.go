package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/procstatus"
	"github.com/tiermem/tiermem/server/web"
)

// rssChild names the variable under which the test binary runs
// TestPutStreamedRSSChild for TestPutStreamedRSS.
const rssChild = "TIERMEM_TEST_RSS_CHILD"

// rssPutSize is the PUT the child measures.
const rssPutSize = 512 << 20

// vmHWM returns the process's peak resident set size.
func vmHWM(t *testing.T) int64 {
	t.Helper()
	v, err := procstatus.Bytes("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}

// TestPutStreamedRSSChild PUTs rssPutSize bytes through the handler into
// the tier $TIERMEM_TEST_RSS_CHILD names, then GETs them, and prints its
// peak RSS before and after each.
func TestPutStreamedRSSChild(t *testing.T) {
	if os.Getenv(rssChild) == "" {
		t.Skip("run by TestPutStreamedRSS")
	}
	opts := testOptions()
	opts.Cold.Size = 2 << 30
	opts.Warm.Size = 1 << 30
	opts.Hot.Size = 1 << 30
	m, err := tiermem.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	before := vmHWM(t)
	req, _ := http.NewRequest(http.MethodPut, keyURL(srv, "big")+"?tier="+os.Getenv(rssChild), &blockReader{block: randomBlock(), n: rssPutSize})
	req.ContentLength = rssPutSize
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT: %s", resp.Status)
	}
	fmt.Printf("HWM %d %d\n", before, vmHWM(t))
	before = vmHWM(t)
	resp, err = srv.Client().Get(keyURL(srv, "big"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || n != rssPutSize {
		t.Fatalf("GET: %s, %d bytes, %v", resp.Status, n, err)
	}
	fmt.Printf("GETHWM %d %d\n", before, vmHWM(t))
}

// TestPutStreamedRSS runs the child in a fresh process: a 512 MiB PUT
// into cold, and its GET, raise the process's peak RSS by far less than
// 512 MiB (the page cache that holds the file is not the process's). Into
// hot and into warm, the PUT costs the value once (it is read into the
// memory the tier keeps), and the GET next to nothing (it is sent from
// that memory, not copied).
func TestPutStreamedRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 GiB to disk")
	}
	for _, tier := range []string{"cold", "hot", "warm"} {
		grew, getGrew := putRSS(t, tier)
		// Under the race detector the heap's pages cost their shadow memory
		// too (measured: +1,540 MiB for a PUT into hot; warm's off-heap
		// mapping has none, +515): that figure is logged.
		if tier != "hot" || !raceEnabled {
			if limit := int64(64 << 20); tier == "cold" && grew > limit || grew > rssPutSize+limit {
				t.Errorf("a %d MiB PUT into %s raised the peak RSS by %.1f MiB: the value was held twice", rssPutSize>>20, tier, float64(grew)/(1<<20))
			}
		}
		if getGrew > 64<<20 {
			t.Errorf("a %d MiB GET from %s raised the peak RSS by %.1f MiB: the value was copied", rssPutSize>>20, tier, float64(getGrew)/(1<<20))
		}
	}
}

// putRSS runs the child for tier and returns how much its peak RSS grew
// with the PUT, then with the GET of the value.
func putRSS(t *testing.T, tier string) (int64, int64) {
	t.Helper()
	cmd := childtest.Command("TestPutStreamedRSSChild", rssChild+"="+tier)
	cmd.Args = append(cmd.Args, "-test.v")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var before, after, getBefore, getAfter int64
	for line := range strings.Lines(string(out)) {
		fmt.Sscanf(line, "HWM %d %d", &before, &after)
		fmt.Sscanf(line, "GETHWM %d %d", &getBefore, &getAfter)
	}
	if after == 0 || getAfter == 0 {
		t.Fatalf("no HWM and GETHWM lines from the child:\n%s", out)
	}
	grew, getGrew := after-before, getAfter-getBefore
	t.Logf("peak RSS %.1f MiB before a %d MiB PUT into %s, %.1f MiB after (+%.1f MiB); its GET: +%.1f MiB",
		float64(before)/(1<<20), rssPutSize>>20, tier, float64(after)/(1<<20), float64(grew)/(1<<20), float64(getGrew)/(1<<20))
	return grew, getGrew
}
