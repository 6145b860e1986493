package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Server is one standalone redis-server started for a test.
type Server struct {
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	dir  string
}

// StartServer starts a redis-server on a free loopback port, without
// persistence (--save "" --appendonly no), with the extra arguments
// given (e.g. "--requirepass", "pw"). It fails when redis-server is
// missing, so that a run without Redis does not pass silently.
func StartServer(extra ...string) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("redistest: redis-server not on PATH (make deps installs it): %w", err)
	}
	dir, err := os.MkdirTemp("", "tiermem-redis-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	for range 5 { // a port found free may be taken before redis-server binds it
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"), "--protected-mode", "no"}, extra...)
		cmd := exec.Command("redis-server", args...)
		cmd.SysProcAttr = procAttr()
		if err := cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("redistest: starting redis-server: %w", err)
		}
		s := &Server{Addr: addr(port), cmd: cmd, dir: dir}
		if s.waitUp() {
			return s, nil
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("redistest: redis-server did not start (see %s)", filepath.Join(dir, "redis.log"))
}

// waitUp waits for the server to accept connections, for up to 5 s.
func (s *Server) waitUp() bool {
	for range 100 {
		if c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Stop kills the server and removes its directory.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// freePort returns a loopback port nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
