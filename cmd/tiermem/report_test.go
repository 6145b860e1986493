package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/observe"
)

const savedReport = "../../observe/testdata/report.json"

func TestReportPrintsTheSummary(t *testing.T) {
	out, err := run(t, "report", "--from", savedReport)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"memory report", "gc:", "leak suspects: 1", "off-heap at "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestReportJSONReadsBack(t *testing.T) {
	out, err := run(t, "report", "--from", savedReport, "--json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := observe.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatalf("--json printed what ReadReport refuses: %v", err)
	}
	f, _ := os.Open(savedReport)
	defer f.Close()
	want, _ := observe.ReadReport(f)
	if r.Summary() != want.Summary() {
		t.Fatal("--json changed the report")
	}
}

func TestReportFromStandardInput(t *testing.T) {
	data, err := os.ReadFile(savedReport)
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	var out bytes.Buffer
	root.SetArgs([]string{"report", "--from", "-"})
	root.SetIn(bytes.NewReader(data))
	root.SetOut(&out)
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "memory report") {
		t.Fatalf("report --from - = %v:\n%s", err, out.String())
	}
}

func TestReportRefuses(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"kind":"something else"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "report", "--from", bad); !errors.Is(err, observe.ErrFormat) {
		t.Errorf("a JSON file of another kind: %v, want observe.ErrFormat", err)
	}
	if _, err := run(t, "report", "--from", filepath.Join(t.TempDir(), "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want os.ErrNotExist", err)
	}
	if _, err := run(t, "report"); err == nil {
		t.Error("no --from: want an error")
	}
}
