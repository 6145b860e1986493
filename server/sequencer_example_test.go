package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
	"github.com/tiermem/tiermem/server/web"
)

// ExampleServer_Sequencer serves one Manager over RESP and over HTTP in
// one order: a transaction that WATCHes a key an HTTP PUT then writes
// does not run (EXEC replies null), as with a write of a RESP client.
func ExampleServer_Sequencer() {
	dir, _ := os.MkdirTemp("", "tiermem-sequencer")
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	srv := server.New(m, nil)
	defer srv.Close()
	h, err := web.New(m, web.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	h.SequenceWith(srv.Sequencer()) // before the handler serves
	hs := httptest.NewServer(h)
	defer hs.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go srv.Serve(ln)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	send := func(cmd string) {
		fmt.Fprintf(c, "%s\r\n", cmd)
		line, _ := r.ReadString('\n')
		fmt.Printf("%-16s -> %q\n", cmd, line)
	}
	send("WATCH balance")
	req, _ := http.NewRequest(http.MethodPut, hs.URL+"/v1/keys/balance", strings.NewReader("100"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		fmt.Println("HTTP PUT balance ->", resp.Status)
	}
	send("MULTI")
	send("SET balance 0")
	send("EXEC")
	// Output:
	// WATCH balance    -> "+OK\r\n"
	// HTTP PUT balance -> 201 Created
	// MULTI            -> "+OK\r\n"
	// SET balance 0    -> "+QUEUED\r\n"
	// EXEC             -> "*-1\r\n"
}
