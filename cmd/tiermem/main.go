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
	"github.com/spf13/pflag"
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
		cmd := newCmd()
		refuseUnknownSubcommands(cmd)
		root.AddCommand(cmd)
	}
	return root
}

// refuseUnknownSubcommands makes every command group under cmd (a command
// that only holds subcommands) refuse an argument that names none of them,
// as the root command does: cobra would print the group's help and exit 0,
// so that `tiermem glacier verfy && deploy` deployed. Without arguments a
// group still prints its help.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = unknownSubcommand
	cmd.PreRunE = func(*cobra.Command, []string) error { return pflag.ErrHelp } // cobra prints help; before the required flags are checked
	cmd.RunE = func(*cobra.Command, []string) error { return pflag.ErrHelp }
}

// unknownSubcommand refuses the arguments of a command group, naming its
// subcommands; `help` alone asks for the group's help.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 || len(args) == 1 && args[0] == "help" {
		return nil
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q for %q (its commands: %s)", args[0], cmd.CommandPath(), strings.Join(names, ", "))
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return fmt.Errorf("%s", msg)
}

func main() {
	out := &errWriter{w: os.Stdout}
	root := newRootCmd()
	root.SetOut(out)
	err := root.Execute()
	if err == nil && out.err != nil {
		err = fmt.Errorf("the command ran, but its output could not be written: %w", out.err)
	}
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "tiermem: ") { // the library's errors name it already
			msg = "tiermem: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}
