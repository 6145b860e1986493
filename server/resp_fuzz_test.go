package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// parseAll feeds data to a reader in chunks of n bytes, as reads would
// bring it, and returns the commands it parsed (copied) and the error
// that stopped it, if any.
func parseAll(data []byte, n int) ([][][]byte, error) {
	p := reader{maxBulk: 1 << 20, maxArgs: 1 << 20}
	var cmds [][][]byte
	for len(data) > 0 {
		space := p.space()
		k := copy(space, data[:min(n, len(data))])
		p.w += k
		data = data[k:]
		for {
			args, err := p.next()
			if errors.Is(err, errIncomplete) {
				break
			}
			if err != nil {
				return cmds, err
			}
			cp := make([][]byte, len(args))
			for i, a := range args {
				cp[i] = bytes.Clone(a)
			}
			cmds = append(cmds, cp)
		}
	}
	return cmds, nil
}

// FuzzReader checks the RESP reader on any bytes: it never panics, and
// it never claims more data than it was given; a command parsed from a
// multibulk frame encodes back to a frame that parses to the same
// arguments; and the result does not depend on how reads split the input.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"*1\r\n$4\r\nPING\r\n", "PING\r\n", "SET k \"a\\x00b\"\r\n", "*2\r\n$3\r\nGET\r\n$-1\r\n", "*-1\r\n", "*0\r\n",
		"ECHO 'x\\'y'\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", "*1\r\n$99999999999\r\n", "\x00\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := parseAll(data, len(data)+1)
		var pe *protocolError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("an error that is no protocol error: %v", err)
		}
		total := 0
		for _, args := range cmds {
			for _, a := range args {
				total += len(a)
			}
		}
		if total > len(data) {
			t.Fatalf("parsed %d bytes of arguments out of %d bytes", total, len(data))
		}
		for _, chunk := range []int{1, 7} {
			again, err2 := parseAll(data, chunk)
			if fmt.Sprint(again) != fmt.Sprint(cmds) || (err == nil) != (err2 == nil) {
				t.Fatalf("read in chunks of %d: %q, %v; at once: %q, %v", chunk, again, err2, cmds, err)
			}
		}
		for _, args := range cmds {
			var frame []byte
			frame = fmt.Appendf(frame, "*%d\r\n", len(args))
			for _, a := range args {
				frame = fmt.Appendf(frame, "$%d\r\n%s\r\n", len(a), a)
			}
			back, err := parseAll(frame, len(frame))
			if err != nil || len(back) != 1 || fmt.Sprint(back[0]) != fmt.Sprint(args) {
				t.Fatalf("%q encoded as %q parses to %q, %v", args, frame, back, err)
			}
		}
	})
}

// TestFrameInPiecesIsLinear reads a frame of 100,000 arguments three
// bytes at a time: resumed where it stopped, not parsed again each time
// (which took minutes).
func TestFrameInPiecesIsLinear(t *testing.T) {
	frame := []byte("*100000\r\n")
	for range 100000 {
		frame = append(frame, "$1\r\nx\r\n"...)
	}
	start := time.Now()
	cmds, err := parseAll(frame, 3)
	if err != nil || len(cmds) != 1 || len(cmds[0]) != 100000 {
		t.Fatalf("%d commands, %v", len(cmds), err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestAnnouncedSizeIsNotReserved: a bulk length announced but not sent
// does not make the reader allocate it.
func TestAnnouncedSizeIsNotReserved(t *testing.T) {
	p := reader{maxBulk: 512 << 20, maxArgs: 1 << 20}
	frame := []byte("*2\r\n$4\r\nECHO\r\n$536870912\r\n")
	p.w += copy(p.space(), frame)
	if _, err := p.next(); !errors.Is(err, errIncomplete) {
		t.Fatal(err)
	}
	if n := len(p.space()) + p.w; n > 1<<20 {
		t.Errorf("the buffer grew to %d bytes for %d received", n, len(frame))
	}
	data := bytes.Repeat([]byte("y"), 3<<20)
	for len(data) > 0 { // as the bytes come, it grows with them
		k := copy(p.space(), data)
		p.w += k
		data = data[k:]
		if _, err := p.next(); !errors.Is(err, errIncomplete) {
			t.Fatal(err)
		}
		if cap(p.buf) > 2*p.w+(1<<20) {
			t.Fatalf("the buffer is %d bytes for %d received", cap(p.buf), p.w)
		}
	}
}

// TestPanicCostsTheConnection: a command that panics closes its own
// connection and leaves the server serving.
func TestPanicCostsTheConnection(t *testing.T) {
	commands["test.panic"] = &command{name: "test.panic", arity: 1, run: func(*conn, [][]byte) { panic("boom") }}
	defer delete(commands, "test.panic")
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := New(m, &Options{Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	for _, want := range []string{"", "+PONG\r\n"} {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cmd := "TEST.PANIC\r\n"
		if want != "" {
			cmd = "PING\r\n"
		}
		nc.Write([]byte(cmd))
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(io.LimitReader(nc, int64(len(want))))
		if string(got) != want {
			t.Errorf("%q: %q, want %q", cmd, got, want)
		}
		nc.Close()
	}
}
