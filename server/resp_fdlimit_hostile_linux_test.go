package server_test

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestRespHostileRunningOutOfFilesDoesNotStopTheServer: when the process
// runs out of file descriptors (many clients at once, below maxclients:
// 10000 by default, more than many hosts' open-file limit), Accept fails
// with EMFILE. Redis logs it and goes on accepting once descriptors are
// free again; so does net/http. tiermem's Serve treats every Accept error
// but a timeout as fatal (server.go Serve): it returns, closing the
// listener, and tiermem serve then stops altogether ("the listener
// failed"). Any client able to open enough connections takes the server
// down for good.
func TestRespHostileRunningOutOfFilesDoesNotStopTheServer(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	c.do("PING")

	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skip(err)
	}
	low := old
	low.Cur = uint64(len(entries) + 8)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	var conns []net.Conn
	for range 12 { // each costs a descriptor here and one for the server's end
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conns = append(conns, nc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	for _, nc := range conns {
		nc.Close()
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // descriptors free again

	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("after the process ran out of descriptors for a moment, the server accepts no more connections: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write(encode("PING"))
	buf := make([]byte, 7)
	if n, err := nc.Read(buf); string(buf[:n]) != "+PONG\r\n" {
		t.Errorf("PING after descriptors ran out for a moment: %q, %v", buf[:n], err)
	}
}
