// Command tiermem is the one binary of the tiermem project: it runs the demo, the
// trace simulator, the bundle tools, the cold-store repair and the server
// (serve: RESP and HTTP).
//
// Each subcommand lives in a file named after it; commands, below, lists them
// all in the order help shows them, so that the binary's surface is in one place.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// commands returns the constructors of every subcommand.
func commands() []func() *cobra.Command {
	return []func() *cobra.Command{
		newServeCmd,    // serve.go: a Manager over RESP and HTTP
		newDemoCmd,     // demo.go: the memories-dev examples on a Manager
		newSimCmd,      // sim.go: replay cache traces against the policies
		newBundleCmd,   // bundle.go: build, get, info and verify bundle files
		newRepairCmd,   // repair.go: salvage a damaged cold store
		newGlacierCmd,  // glacier.go: list, verify and compact the glacier tier's packs
		newClusterCmd,  // cluster.go: values in a Redis Cluster, and its nodes' status
		newReportCmd,   // report.go: print a memory report saved by package observe
		newSnapshotCmd, // snapshot.go: create, restore, inspect and verify snapshots of a Manager
		newPlotCmd,     // plot.go: draw the analytics a Manager wrote as a PNG, SVG or PDF
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tiermem",
		Short: "Keep data across hot, warm, cold and glacier memory tiers",
		Long: "tiermem is the command of the tiermem library, which keeps data across memory tiers:\n" +
			"hot (live Go memory), warm (RAM outside the Go heap), cold (local disk) and glacier\n" +
			"(object storage). It runs the memories-dev demo on the Manager, replays cache traces\n" +
			"against the eviction policies, builds, reads and checks bundle files, repairs a damaged\n" +
			"cold store and inspects glacier packs; each command below says more with --help.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, newCmd := range commands() {
		root.AddCommand(newCmd())
	}
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "tiermem: ") { // the library's errors name it already
			msg = "tiermem: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}
