package server_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/zeebo/xxh3"
)

// TestGetRangeOfALargeColdValue stores 24 MiB of random bytes in the cold
// tier, raw (StoreFrom), and checks STRLEN, OBJECT ENCODING (by the size,
// not loading the value) and GETRANGEs at its start,
// middle and end, with negative offsets, against the bytes; each GETRANGE
// allocates far less than the value (it reads the range, after a verifying
// pass through a small buffer). Then one bit of the value's last byte is
// flipped in its segment file: STRLEN still answers from the index, and
// every GETRANGE is an error naming the corruption, never wrong bytes.
func TestGetRangeOfALargeColdValue(t *testing.T) {
	dir := t.TempDir()
	addr, _, m := startTiermemIn(t, dir, nil)
	want := make([]byte, 24<<20)
	rand.Read(want)
	if err := m.StoreFrom("big", bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	if got := string(c.do("STRLEN", "big")); got != fmt.Sprintf(":%d\r\n", len(want)) {
		t.Fatalf("STRLEN: %q", got)
	}
	n := int64(len(want))
	for _, r := range [][2]int64{{0, 9}, {n/2 - 5, n/2 + 100}, {-10, -1}, {n - 1, n + 50}, {5, 4}} {
		from, to := r[0], r[1]
		var grew uint64
		var got []byte
		grew = allocatedBy(func() { got = c.do("GETRANGE", "big", fmt.Sprint(from), fmt.Sprint(to)) })
		if from < 0 {
			from += n
		}
		if to < 0 {
			to += n
		}
		to = min(to, n-1)
		part := []byte{}
		if from <= to {
			part = want[from : to+1]
		}
		if wantReply := fmt.Sprintf("$%d\r\n%s\r\n", len(part), part); string(got) != wantReply {
			t.Errorf("GETRANGE %v: %d bytes, not the %d of the value", r, len(got), len(part))
		}
		if grew > 4<<20 {
			t.Errorf("GETRANGE %v of a 24 MiB cold value allocated %d MiB", r, grew>>20)
		}
	}
	// The whole value, and a range of 3 MiB: sent from the value as the
	// reply is written, not copied into the connection's buffer first.
	for _, r := range [][2]int64{{0, n - 1}, {1 << 20, 4<<20 - 1}} {
		var sum uint64
		grew := allocatedBy(func() { sum = replyChecksum(t, c, "GETRANGE", "big", fmt.Sprint(r[0]), fmt.Sprint(r[1])) })
		if want := xxh3.Hash(want[r[0] : r[1]+1]); sum != want {
			t.Errorf("GETRANGE %v: not the value's bytes", r)
		}
		if grew > 4<<20 {
			t.Errorf("GETRANGE %v of a 24 MiB cold value allocated %d MiB", r, grew>>20)
		}
	}
	var enc []byte
	if grew := allocatedBy(func() { enc = c.do("OBJECT", "ENCODING", "big") }); string(enc) != "$3\r\nraw\r\n" || grew > 4<<20 {
		t.Errorf("OBJECT ENCODING: %q, %d MiB allocated", enc, grew>>20)
	}
	flipLastByte(t, filepath.Join(dir, "cold"), want)
	if got := string(c.do("STRLEN", "big")); got != fmt.Sprintf(":%d\r\n", len(want)) {
		t.Fatalf("STRLEN of the corrupt value: %q", got)
	}
	for _, r := range [][2]string{{"0", "9"}, {"-1", "-1"}, {"0", "-1"}, {"1048576", "4194303"}} {
		if got := string(c.do("GETRANGE", "big", r[0], r[1])); !strings.HasPrefix(got, "-") || !strings.Contains(got, "corrupt") {
			t.Errorf("GETRANGE %v of a corrupt value: %q, want an error naming the corruption", r, got)
		}
	}
}

// flipLastByte flips a bit of want's last byte in the segment file of dir
// that holds it.
func flipLastByte(t *testing.T, dir string, want []byte) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, want[:64]); i >= 0 && i+len(want) <= len(b) {
			b[i+len(want)-1] ^= 0x80
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("the value is in no segment file")
}

// replyChecksum sends a command whose reply is one bulk string and returns
// the XXH3-64 of its bytes, read through a small buffer.
func replyChecksum(t *testing.T, c *client, args ...string) uint64 {
	t.Helper()
	c.send(encode(args...))
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "$") {
		t.Fatalf("%v: reply %q, %v", args, line, err)
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(line[1:]), 10, 64)
	h := xxh3.New()
	if _, err := io.CopyN(h, c.br, n); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if _, err := c.br.Discard(2); err != nil {
		t.Fatal(err)
	}
	return h.Sum64()
}

// allocatedBy returns the bytes of Go memory allocated while fn ran.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
