package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// removeTempsOnSignal makes SIGINT and SIGTERM remove the temporary files
// the command made (sort runs, its unfinished output: internal/tempfile)
// before the process exits, with the status a shell gives a process a
// signal ended (128+n): the command's deferred removals would not run. The
// output is written beside its path and renamed, so no half file is left
// either. The returned function undoes it.
func removeTempsOnSignal(errOut io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			n := tempfile.RemoveAll()
			fmt.Fprintf(errOut, "tiermem: stopped by %v; %d temporary files removed\n", sig, n)
			os.Exit(128 + int(sig.(syscall.Signal)))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
