// Package s3test gives tests an S3-compatible server on 127.0.0.1: the
// one the TIERMEM_S3_ENDPOINT environment variable names, else the one
// `make deps` started on 127.0.0.1:7070, else a versitygw it starts itself
// from the binary `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`
// left in GOBIN, GOPATH/bin or PATH (running that go install first if the
// binary is missing, unless TIERMEM_S3_INSTALL=0), serving a temporary
// directory. When none can be had, a test fails under CI=true and skips
// elsewhere.
//
// Every caller gets a fresh prefix in one bucket, so that stores never
// see each other's packs. The credentials are fixed test values for a
// loopback server, set in the environment the AWS SDK reads.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/object"
	"github.com/tiermem/tiermem/tier/object/s3"
)

// The fixed test setup, shared with the Makefile's deps target.
const (
	AccessKey   = "tiermem"
	SecretKey   = "tiermem-secret-key"
	DefaultAddr = "127.0.0.1:7070"
	Bucket      = "tiermem-test"
	Version     = "v1.8.0" // of versitygw
)

var (
	once     sync.Once
	endpoint string // "http://host:port", once found or started
	startErr error
	server   *exec.Cmd // the server this process started, if any
	serveDir string
	prefixes atomic.Int64
)

// Endpoint returns the server's endpoint URL, finding or starting it on
// the first call; it fails or skips t as the package doc says.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = find() })
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3test: no S3 server (CI=true, so this fails rather than skips): %v", startErr)
		}
		t.Skipf("s3test: no S3 server: %v", startErr)
	}
	return endpoint
}

// URL returns a store URL for a fresh prefix of the test bucket, which it
// creates if needed.
func URL(t testing.TB) string {
	t.Helper()
	ep := Endpoint(t)
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	u := fmt.Sprintf("s3://%s/%s-%d-%d?endpoint=%s&region=us-east-1&path-style=true",
		Bucket, name, os.Getpid(), prefixes.Add(1), ep)
	b := Open(t, u)
	if err := b.Create(context.Background()); err != nil {
		t.Fatalf("s3test: %v", err)
	}
	return u
}

// Open returns the Bucket a URL of this server names.
func Open(t testing.TB, rawURL string) *s3.Bucket {
	t.Helper()
	loc, err := object.ParseURL(rawURL, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.New(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// find returns the endpoint of a running server, starting one if needed.
func find() (string, error) {
	setCredentials()
	if ep := os.Getenv("TIERMEM_S3_ENDPOINT"); ep != "" {
		return ep, nil
	}
	if reachable(DefaultAddr) {
		return "http://" + DefaultAddr, nil
	}
	return start()
}

// setCredentials sets the test credentials where the environment has none.
func setCredentials() {
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		os.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
		os.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	}
}

func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// start runs versitygw on a free port over a temporary directory,
// installing it first if it is missing.
func start() (string, error) {
	bin, err := binary()
	if err != nil {
		if bin, err = install(); err != nil {
			return "", err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	if serveDir, err = os.MkdirTemp("", "tiermem-s3-"); err != nil {
		return "", err
	}
	server = exec.Command(bin, "--port", addr, "--quiet", "posix", serveDir)
	server.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+AccessKey, "ROOT_SECRET_ACCESS_KEY="+SecretKey)
	if err := server.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", bin, err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if reachable(addr) {
			return "http://" + addr, nil
		}
	}
	Stop()
	return "", fmt.Errorf("%s did not listen on %s within 15 s", bin, addr)
}

// binary finds the versitygw executable.
func binary() (string, error) {
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "versitygw"); isFile(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("versitygw is not installed (make deps, or go install github.com/versity/versitygw/cmd/versitygw@%s) and nothing listens on %s", Version, DefaultAddr)
}

// install runs go install for versitygw (about a minute, through the
// module proxy) unless TIERMEM_S3_INSTALL=0, and returns the binary.
func install() (string, error) {
	if os.Getenv("TIERMEM_S3_INSTALL") == "0" {
		return "", fmt.Errorf("versitygw is not installed and TIERMEM_S3_INSTALL=0")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "install", "github.com/versity/versitygw/cmd/versitygw@"+Version).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("installing versitygw %s: %v: %s", Version, err, out)
	}
	return binary()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Stop stops the server this process started, if any, and removes its
// directory; a package's TestMain calls it after m.Run.
func Stop() {
	if server != nil && server.Process != nil {
		_ = server.Process.Kill()
		_ = server.Wait()
		server = nil
	}
	if serveDir != "" {
		_ = os.RemoveAll(serveDir)
		serveDir = ""
	}
}

// Main runs a package's tests and stops the server they started:
//
//	func TestMain(m *testing.M) { s3test.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
