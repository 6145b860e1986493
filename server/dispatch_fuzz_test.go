package server

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// syncBuffer is a log's destination that many goroutines may write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// FuzzDispatch runs any bytes through a connection of a real server (one
// Manager for the whole run, so state carries over between inputs): no
// command panics (the connection would survive it, but it is a bug), and
// the connection ends when the client goes, within seconds.
func FuzzDispatch(f *testing.F) {
	for _, seed := range []string{
		"WATCH a b\r\nMULTI\r\nSET a 1\r\nRENAME a b\r\nEXEC\r\n", "CONFIG SET maxclients 10 timeout 0\r\nCONFIG GET *\r\n",
		"SET k v\r\nCOPY k k2 DB 0 REPLACE\r\nOBJECT ENCODING k2\r\nOBJECT FREQ k\r\n", "CLIENT LIST\r\nCLIENT KILL ID 1\r\nRESET\r\n",
		"BGSAVE\r\nSAVE\r\nLASTSAVE\r\nINFO persistence\r\nSHUTDOWN ABORT\r\n", "*3\r\n$6\r\nRENAME\r\n$0\r\n\r\n$1\r\nx\r\n",
		"PING\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1048576\r\nthe start of a value that SET streams\r\nGET k\r\n", // cut short
	} {
		f.Add([]byte(seed))
	}
	m, err := tiermem.Open(f.TempDir(), &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	var logs syncBuffer
	s := New(m, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), MaxBulkLen: 1 << 20, OnShutdown: func() {}})
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		client, side := net.Pipe()
		c := newConn(s, side)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.serve()
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(data)
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the connection did not end after its client closed, input %q", data)
		}
		if strings.Contains(logs.String(), "panicked") {
			t.Fatalf("input %q: %s", data, logs.String())
		}
		none := "" // undo a CONFIG SET requirepass, which would leave the next inputs at NOAUTH
		s.pass.Store(&none)
		s.idle.Store(0)
	})
}
