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

// signalPlan says what a SIGINT or SIGTERM does to work that must not stop
// half way: what to say, and whether the process may stop now. second is
// true for a second signal, which stops it whatever the plan says; msg then
// says what stopping leaves.
type signalPlan func(sig os.Signal, second bool) (msg string, stopNow bool)

// finishOnSignal makes the first SIGINT or SIGTERM stop the process only
// where plan says nothing is left half done; otherwise the work goes on to
// its end, and plan's message says why. A second one stops the process at
// once, after saying what it leaves. The process ends with the status a
// shell gives a process a signal ended (128+n). The returned function
// undoes it and reports the signal that came, if any.
func finishOnSignal(errOut io.Writer, plan signalPlan) (stop func() os.Signal) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-sigs:
			msg, now := plan(sig, false)
			if now {
				fmt.Fprintf(errOut, "tiermem: stopped by %v %s\n", sig, msg)
				os.Exit(128 + int(sig.(syscall.Signal)))
			}
			got <- sig
			fmt.Fprintf(errOut, "tiermem: %v: %s (a second signal stops it now)\n", sig, msg)
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			msg, _ := plan(sig, true)
			fmt.Fprintf(errOut, "tiermem: stopped by a second %v: %s\n", sig, msg)
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
