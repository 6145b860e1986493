// Command tiermem is the one binary of the tiermem project: it runs the demo, the
// trace simulator, the bundle tools and, in later releases, the server.
//
// Each subcommand lives in a file named after it and registers itself with
// register from an init function, so adding one never edits this file.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// commands holds the constructors of every subcommand, filled by init functions.
var commands []func() *cobra.Command

// register adds a subcommand constructor; it is called from init functions only.
func register(newCmd func() *cobra.Command) { commands = append(commands, newCmd) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tiermem",
		Short: "Keep data across hot, warm and cold memory tiers",
		Long: "tiermem is the command of the tiermem library, which keeps data across memory tiers:\n" +
			"hot (live Go memory), warm (RAM outside the Go heap) and cold (local disk). It runs the\n" +
			"memories-dev demo on the Manager, replays cache traces against the eviction policies,\n" +
			"and builds, reads and checks bundle files; each command below says more with --help.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "tiermem:", err)
		os.Exit(1)
	}
}
