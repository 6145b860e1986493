package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// putStreamed stages value from a reader and puts it under key.
func putStreamed(t testing.TB, s *disk.Store, key string, value, meta []byte) int64 {
	t.Helper()
	st, err := s.Stage(bytes.NewReader(value), int64(len(value)))
	if err != nil {
		t.Fatalf("Stage(%q): %v", key, err)
	}
	defer st.Discard()
	n, err := s.PutStaged(key, st, meta)
	if err != nil {
		t.Fatalf("PutStaged(%q): %v", key, err)
	}
	return n
}

// tmpFiles lists the *.tmp files in dir.
func tmpFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStagedPut(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, &disk.Options{SegmentSize: 1 << 20})
	want := map[string][]byte{}
	for i, n := range []int{0, 1, 100 << 10, 3<<20 + 7, 64 << 10, 5} {
		key := fmt.Sprint("streamed/", i)
		want[key] = randomBytes(n, uint64(i))
		size := putStreamed(t, s, key, want[key], []byte("meta"))
		if size != s.Cost(len(key), n, 4) {
			t.Errorf("%s: %d bytes reported, Cost says %d", key, size, s.Cost(len(key), n, 4))
		}
		other := fmt.Sprint("put/", i)
		want[other] = valueOf(other, i)
		mustPut(t, s, other, want[other], nil)
	}
	putStreamed(t, s, "put/2", []byte("replaced by a streamed one"), nil) // replaces an ordinary put
	want["put/2"] = []byte("replaced by a streamed one")
	check := func(s *disk.Store) {
		t.Helper()
		for k, v := range want {
			mustGet(t, s, k, v)
		}
		if s.Len() != int64(len(want)) {
			t.Errorf("Len %d, want %d", s.Len(), len(want))
		}
	}
	check(s)
	if m, err := s.Meta("streamed/1"); err != nil || string(m) != "meta" {
		t.Errorf("meta: %q, %v", m, err)
	}
	if tmp := tmpFiles(t, dir); len(tmp) != 0 {
		t.Errorf("staged files left: %q", tmp)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openStore(t, dir, &disk.Options{SegmentSize: 1 << 20})) // recovery reads streamed records as any other
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestStageShortOrFailing(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	mustPut(t, s, "k", []byte("old"), nil)
	for _, tc := range []struct {
		r    io.Reader
		want error
	}{
		{strings.NewReader("short"), io.ErrUnexpectedEOF},
		{strings.NewReader(""), io.ErrUnexpectedEOF},
		{io.MultiReader(bytes.NewReader(make([]byte, 2<<20)), failingReader{syscall.ECONNRESET}), syscall.ECONNRESET},
	} {
		st, err := s.Stage(tc.r, 3<<20)
		if !errors.Is(err, tc.want) || st != nil {
			t.Errorf("Stage: %v, want %v", err, tc.want)
		}
	}
	if _, err := s.Stage(strings.NewReader(""), -1); !errors.Is(err, tier.ErrTooLarge) {
		t.Errorf("a negative size: %v", err)
	}
	// Exactly size bytes are read, no more.
	r := strings.NewReader("abcdef")
	st, err := s.Stage(r, 3)
	if err != nil || r.Len() != 3 {
		t.Fatalf("Stage of 3 of 6 bytes: %v, %d left", err, r.Len())
	}
	st.Discard()
	if _, err := s.PutStaged("k", st, nil); err == nil {
		t.Error("PutStaged of a discarded value: no error")
	}
	mustGet(t, s, "k", []byte("old"))
	if tmp := tmpFiles(t, dir); len(tmp) != 0 {
		t.Errorf("staged files left: %q", tmp)
	}
}

// TestStagedCorrupt: a staged file changed before the put fails it with
// ErrCorrupt, and the log is as it was.
func TestStagedCorrupt(t *testing.T) {
	s := openStore(t, "", nil)
	mustPut(t, s, "k", []byte("old"), nil)
	value := randomBytes(200<<10, 1)
	st, err := s.Stage(bytes.NewReader(value), int64(len(value)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	f, err := os.OpenFile(disk.StagedName(st), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{value[1000] ^ 1}, 1000)
	f.Close()
	if _, err := s.PutStaged("k", st, nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("PutStaged of a damaged file: %v", err)
	}
	mustGet(t, s, "k", []byte("old"))
	mustPut(t, s, "after", []byte("the log goes on"), nil)
	mustGet(t, s, "after", []byte("the log goes on"))
}

// TestStagedNoSpace: a full disk fails Stage or PutStaged with ErrNoSpace,
// stores nothing, and the store takes the value once space returns.
func TestStagedNoSpace(t *testing.T) {
	fs := vfs.NewFault(vfs.Default)
	dir := t.TempDir()
	s := openStore(t, dir, &disk.Options{FS: fs, Sync: disk.SyncAlways})
	mustPut(t, s, "k", []byte("old"), nil)
	value := randomBytes(3<<20, 2)
	fs.SetSpace(1 << 20)
	if _, err := s.Stage(bytes.NewReader(value), int64(len(value))); !errors.Is(err, tier.ErrNoSpace) {
		t.Fatalf("Stage on a full disk: %v", err)
	}
	fs.SetSpace(-1)
	st, err := s.Stage(bytes.NewReader(value), int64(len(value)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	fs.SetSpace(1 << 20)
	if _, err := s.PutStaged("k", st, nil); !errors.Is(err, tier.ErrNoSpace) {
		t.Fatalf("PutStaged on a full disk: %v", err)
	}
	mustGet(t, s, "k", []byte("old"))
	fs.SetSpace(-1)
	if _, err := s.PutStaged("k", st, nil); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "k", value)
	st.Discard()
	if tmp := tmpFiles(t, dir); len(tmp) != 0 {
		t.Errorf("staged files left: %q", tmp)
	}
}

// blockingReader gives n bytes, then waits for release before the rest.
type blockingReader struct {
	r       io.Reader
	n       int
	reached chan struct{}
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.n == 0 {
		if b.reached != nil {
			close(b.reached)
			b.reached = nil
			<-b.release
		}
		return b.r.Read(p)
	}
	p = p[:min(len(p), b.n)]
	n, err := b.r.Read(p)
	b.n -= n
	return n, err
}

// TestStageCloseInTheMiddle: Close does not wait for a slow stream; the
// put after it fails with ErrClosed and Discard leaves nothing behind.
func TestStageCloseInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	value := randomBytes(4<<20, 3)
	br := &blockingReader{r: bytes.NewReader(value), n: 1 << 20, reached: make(chan struct{}), release: make(chan struct{})}
	reached := br.reached
	type result struct {
		st  *disk.Staged
		err error
	}
	done := make(chan result)
	go func() {
		st, err := s.Stage(br, int64(len(value)))
		done <- result{st, err}
	}()
	<-reached
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a stream being staged")
	}
	close(br.release)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if _, err := s.PutStaged("k", res.st, nil); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("PutStaged after Close: %v", err)
	}
	if err := res.st.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stage(bytes.NewReader(value), 1); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("Stage after Close: %v", err)
	}
	if tmp := tmpFiles(t, dir); len(tmp) != 0 {
		t.Errorf("staged files left: %q", tmp)
	}
	s2 := openStore(t, dir, nil)
	if _, err := s2.Get("k", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("k after the reopen: %v", err)
	}
}

// TestStagedConcurrent: streamed and ordinary puts of the same and other
// keys from several goroutines, with reads; every key ends with one of
// the values written to it, whole.
func TestStagedConcurrent(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 2 << 20})
	values := [][]byte{randomBytes(300<<10, 4), randomBytes(70<<10, 5), valueOf("x", 1)}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				key := fmt.Sprint("k", i%5)
				v := values[(w+i)%len(values)]
				if (w+i)%2 == 0 {
					putStreamed(t, s, key, v, nil)
				} else {
					mustPut(t, s, key, v, nil)
				}
				if got, err := s.Get(key, nil); err == nil && !slicesContain(values, got) {
					t.Errorf("%s: a value never written, %d bytes", key, len(got))
				}
			}
		})
	}
	wg.Wait()
	for i := range 5 {
		got, err := s.Get(fmt.Sprint("k", i), nil)
		if err != nil || !slicesContain(values, got) {
			t.Errorf("k%d: %d bytes, %v", i, len(got), err)
		}
	}
}

func slicesContain(vs [][]byte, b []byte) bool {
	for _, v := range vs {
		if bytes.Equal(v, b) {
			return true
		}
	}
	return false
}
