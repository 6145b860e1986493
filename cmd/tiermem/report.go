package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem/observe"
)

func newReportCmd() *cobra.Command {
	var from string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report --from FILE",
		Short: "Print a memory report that package observe saved as JSON",
		Long: `report reads a memory report that package observe wrote as JSON (an
Optimizer's Report encoded with encoding/json: saved by a program, a test or,
once the server exists, fetched from its /v1/report) and prints its summary:
memory and its trend, the garbage collector with its bottlenecks and the
changes proposed, leak suspects with their allocation sites, allocation hot
spots, and the allocators, pools and caches the program named.

The report is made in the process it describes; report never attaches to
another process. --json prints the report itself, indented, after checking
it. The exit status is non-zero when FILE is not such a report.`,
		Example: `  tiermem report --from report.json
  curl -s localhost:8080/v1/report | tiermem report --from -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.OutOrStdout(), cmd.InOrStdin(), from, asJSON)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the report's JSON file, or - for standard input")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as indented JSON instead of its summary")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

func runReport(out io.Writer, stdin io.Reader, from string, asJSON bool) error {
	r, err := readReportFrom(stdin, from)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err = io.WriteString(out, r.Summary())
	return err
}

// readReportFrom reads the report in the file from, or in stdin for "-".
func readReportFrom(stdin io.Reader, from string) (observe.Report, error) {
	if from == "-" {
		r, err := observe.ReadReport(stdin)
		if err != nil {
			return r, fmt.Errorf("standard input: %w", err)
		}
		return r, nil
	}
	f, err := os.Open(from)
	if err != nil {
		return observe.Report{}, err
	}
	defer f.Close()
	r, err := observe.ReadReport(f)
	if err != nil {
		return r, fmt.Errorf("%s: %w", from, err)
	}
	return r, nil
}
