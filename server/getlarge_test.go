package server_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestGetOfALargeCorruptColdValue: a large cold value whose segment bytes
// changed is an error reply naming the corruption, never wrong bytes nor a
// cut connection, and the connection serves the next command.
func TestGetOfALargeCorruptColdValue(t *testing.T) {
	dir := t.TempDir()
	addr, _, m := startTiermemIn(t, dir, nil)
	want := make([]byte, 3<<20)
	rand.Read(want)
	if err := m.Store("big", want, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	if got := c.do("GET", "big"); !bytes.Equal(got, fmt.Appendf(nil, "$%d\r\n%s\r\n", len(want), want)) {
		t.Fatalf("GET of the intact value: %d bytes, not the value", len(got))
	}
	flipLastByte(t, filepath.Join(dir, "cold"), want)
	if got := string(c.do("GET", "big")); !strings.HasPrefix(got, "-") || !strings.Contains(got, "corrupt") {
		t.Errorf("GET of a corrupt value: %.80q, want an error naming the corruption", got)
	}
	if got := string(c.do("PING")); got != "+PONG\r\n" {
		t.Errorf("PING after the error: %q", got)
	}
}

// TestGetOfLargeValuesWhileTheyChangeAndClientsLeave GETs large warm and
// cold values from several connections while another replaces, moves and
// deletes them, and one client in three hangs up in the middle of its
// reply: every reply read whole is one whole value that was stored, or
// null. Once everyone is gone, no reply's reader keeps a replaced warm
// value mapped (Usage's Held is back to 0).
func TestGetOfLargeValuesWhileTheyChangeAndClientsLeave(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	values := make([][]byte, 3)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 2<<20+i)
	}
	tiers := []tiermem.Tier{tiermem.Warm, tiermem.Cold}
	for _, key := range []string{"k0", "k1"} {
		if err := m.Store(key, values[0], tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var writer, readers sync.WaitGroup
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprint("k", i%2)
			switch i % 4 {
			case 3:
				m.Delete(key)
			case 2:
				m.Move(key, tiers[(i/4)%2])
			default:
				m.Store(key, values[i%3], tiermem.InTier(tiers[(i/2)%2]))
			}
		}
	})
	errs := make(chan error, 3)
	for r := range 3 {
		readers.Go(func() {
			for i := range 30 {
				if err := getWholeOrHangUp(addr, fmt.Sprint("k", i%2), values, (r+i)%3 == 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writer.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	deadline := time.Now().Add(time.Minute) // a hung-up connection drops its replies when its goroutine sees it
	for m.Usage()[tiermem.Warm].Held != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h := m.Usage()[tiermem.Warm].Held; h != 0 {
		t.Errorf("warm Held = %d after every client left: a reply's reader was never closed", h)
	}
}

// getWholeOrHangUp GETs key on a new connection and checks the reply is
// one of values whole, or null; with hangUp it reads a few bytes of the
// reply and closes the connection.
func getWholeOrHangUp(addr, key string, values [][]byte, hangUp bool) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute))
	if _, err := nc.Write(encode("GET", key)); err != nil {
		return err
	}
	if hangUp {
		_, err := nc.Read(make([]byte, 100))
		return err
	}
	var got bytes.Buffer
	if err := readReply(bufio.NewReader(nc), &got); err != nil {
		return fmt.Errorf("GET %s: %v", key, err)
	}
	if got.String() == "$-1\r\n" {
		return nil
	}
	for _, v := range values {
		if bytes.Equal(got.Bytes(), fmt.Appendf(nil, "$%d\r\n%s\r\n", len(v), v)) {
			return nil
		}
	}
	return fmt.Errorf("GET %s: a reply of %d bytes (%.40q) that is no value stored", key, got.Len(), got.Bytes())
}
