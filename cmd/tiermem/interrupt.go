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

// finishOnSignal makes the first SIGINT or SIGTERM say that the work goes
// on to its end, as why explains, instead of stopping it half-way; a
// second one stops the process at once, with the status a shell gives a
// process a signal ended (128+n), after saying what it leaves. The
// returned function undoes it and reports the signal that came, if any.
func finishOnSignal(errOut io.Writer, why, leaves string) (stop func() os.Signal) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-sigs:
			got <- sig
			fmt.Fprintf(errOut, "tiermem: %v: %s (a second signal stops it now)\n", sig, why)
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(errOut, "tiermem: stopped by a second %v: %s\n", sig, leaves)
			os.Exit(128 + int(sig.(syscall.Signal)))
		case <-done:
		}
	}()
	return func() os.Signal {
		signal.Stop(sigs)
		close(done)
		select {
		case sig := <-got:
			return sig
		default:
			return nil
		}
	}
}
