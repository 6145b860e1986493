package s3_test

import (
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/internal/s3test"
)

// hostileProxy is a TCP proxy in front of the S3 server. While stalled it
// accepts connections and forwards nothing, in either direction, on new
// connections and old ones (a server that stopped answering); while
// dropping it closes every connection, old and new (a server gone).
type hostileProxy struct {
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
	drop    bool
	closed  bool
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// newHostileProxy starts a proxy in front of the test server; it stops when
// the test ends.
func newHostileProxy(t *testing.T) *hostileProxy {
	t.Helper()
	ep := s3test.Endpoint(t)
	u, err := url.Parse(ep)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hostileProxy{ln: ln, upstream: u.Host, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Go(p.serve)
	t.Cleanup(p.close)
	return p
}

// endpoint returns the proxy's endpoint URL.
func (p *hostileProxy) endpoint() string { return "http://" + p.ln.Addr().String() }

// url returns s3URL (a URL of the test server) with the proxy as endpoint.
func (p *hostileProxy) url(s3URL string) string {
	i := strings.Index(s3URL, "endpoint=")
	j := strings.IndexByte(s3URL[i:], '&')
	return s3URL[:i] + "endpoint=" + p.endpoint() + s3URL[i+j:]
}

func (p *hostileProxy) setStalled(v bool) {
	p.mu.Lock()
	p.stalled = v
	p.cond.Broadcast()
	p.mu.Unlock()
}

// setDropping closes every connection now, and every new one while v.
func (p *hostileProxy) setDropping(v bool) {
	p.mu.Lock()
	p.drop = v
	if v {
		for c := range p.conns {
			c.Close()
		}
	}
	p.mu.Unlock()
}

func (p *hostileProxy) close() {
	p.mu.Lock()
	p.closed, p.stalled = true, false
	p.cond.Broadcast()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *hostileProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.drop {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *hostileProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// pass waits while the proxy is stalled; false once it is closed.
func (p *hostileProxy) pass() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.stalled && !p.closed {
		p.cond.Wait()
	}
	return !p.closed
}

func (p *hostileProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Go(func() {
			defer p.untrack(c)
			up, err := net.Dial("tcp", p.upstream)
			if err != nil || !p.track(up) {
				return
			}
			defer p.untrack(up)
			var both sync.WaitGroup
			both.Go(func() { p.copy(up, c); up.Close() })
			both.Go(func() { p.copy(c, up); c.Close() })
			both.Wait()
		})
	}
}

// copy forwards src to dst, chunk by chunk, each chunk waiting while the
// proxy is stalled.
func (p *hostileProxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.pass() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection
		}
	}
}
