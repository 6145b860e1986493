package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileStalledUploadGivesBackItsRoom: a client sends the head of a
// PUT announcing 8 MiB for the hot tier and 1 KiB of its body, then sends
// nothing and keeps the connection. With a 300 ms BodyIdleTimeout the
// request ends with 408, nothing is stored, and the room the value held in
// the hot tier's budget is given back (it was held for as long as the
// client kept the connection). A slow upload that keeps sending, one
// piece every 100 ms, is stored whole.
func TestHostileStalledUploadGivesBackItsRoom(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{BodyIdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /v1/keys/k?tier=hot HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", 8<<20)
	conn.Write(make([]byte, 1<<10))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no reply to a stalled upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("a stalled upload: %d, want 408", resp.StatusCode)
	}
	if _, err := m.Retrieve("k"); err == nil {
		t.Error("a stalled upload stored a value")
	}
	if u := m.Usage()[tiermem.Hot]; u.Streaming != 0 {
		t.Errorf("the hot tier still holds %d bytes for a stalled upload", u.Streaming)
	}

	slow := &pacedReader{left: 1 << 20, piece: 128 << 10, pause: 100 * time.Millisecond}
	req, err := http.NewRequest("PUT", keyURL(srv, "slow")+"?tier=hot", slow)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1 << 20
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("a slow upload that keeps sending: %d, want 201", resp.StatusCode)
	}
}

// pacedReader gives left zero bytes, a piece at a time, pausing before
// each, then io.EOF.
type pacedReader struct {
	left, piece int
	pause       time.Duration
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := min(len(p), r.piece, r.left)
	clear(p[:n])
	r.left -= n
	return n, nil
}
