package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// Example serves a Manager over the Redis protocol on a loopback port
// that any Redis client (here, a few raw RESP lines) can use, then shuts
// it down gracefully before closing the Manager it does not own.
func Example() {
	dir, _ := os.MkdirTemp("", "tiermem-serve")
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	s := server.New(m, &server.Options{RequirePass: "secret"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, cmd := range []string{"GET greeting", "AUTH secret", "SET greeting hello", "GET greeting"} {
		fmt.Fprintf(c, "%s\r\n", cmd) // an inline command, as redis-cli's telnet mode sends
		line, _ := r.ReadString('\n')
		if line[0] == '$' { // a bulk string: its bytes follow on the next line
			line, _ = r.ReadString('\n')
		}
		fmt.Printf("%-20s -> %q\n", cmd, line)
	}

	if err := s.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("Serve returned ErrServerClosed:", errors.Is(<-served, server.ErrServerClosed))
	// Output:
	// GET greeting         -> "-NOAUTH Authentication required.\r\n"
	// AUTH secret          -> "+OK\r\n"
	// SET greeting hello   -> "+OK\r\n"
	// GET greeting         -> "hello\r\n"
	// Serve returned ErrServerClosed: true
}
