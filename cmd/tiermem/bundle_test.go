package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/kvtext"
)

// writeInput writes text to a file named name in a temporary directory.
func writeInput(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustRun runs the command line and fails the test on error.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("tiermem %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestBundleBuildAndGet(t *testing.T) {
	tests := []struct {
		name, file, text string
		flags            []string
		gets             map[string]string
	}{
		{"jsonl", "in.jsonl", `{"key":"red","value":"#f00"}` + "\n" + `{"key":"obj","value":{"a":1}}`, nil,
			map[string]string{"red": "#f00\n", "obj": "{\"a\":1}\n"}},
		{"tsv detected", "in.txt", "red\t#f00\ngreen\t#0f0\n", nil, map[string]string{"green": "#0f0\n"}},
		{"multi", "in.tsv", "k\t1\nk\t2\n", []string{"--index", "multi"}, map[string]string{"k": "1\n2\n"}},
		{"approximate packed", "in.tsv", "k\tv\n", []string{"--index", "approx", "--align", "1", "--memory", "2MiB"}, map[string]string{"k": "v\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := writeInput(t, tt.file, tt.text)
			out := filepath.Join(t.TempDir(), "b.bundle")
			msg := mustRun(t, append([]string{"bundle", "build", "--in", in, "--out", out, "--progress", "never"}, tt.flags...)...)
			if !strings.Contains(msg, "records") {
				t.Errorf("build printed %q", msg)
			}
			for k, want := range tt.gets {
				if got := mustRun(t, "bundle", "get", out, k); got != want {
					t.Errorf("get %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestBundleBuildFromStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.bundle")
	f := buildFlags{in: "-", out: out, format: "auto", index: "exact", memory: "1MiB", progress: "never", align: 8}
	var msg bytes.Buffer
	if err := runBundleBuild(&msg, &msg, strings.NewReader(`{"key":"k","value":"v","meta":"m"}`), f); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if r, err := b.GetRecord([]byte("k")); err != nil || string(r.Value) != "v" || string(r.Meta) != "m" {
		t.Fatalf("record: %q %q %v", r.Value, r.Meta, err)
	}
}

func TestBundleBuildErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.bundle")
	bad := writeInput(t, "bad.tsv", "a\t1\nno tab\n")
	_, err := run(t, "bundle", "build", "--in", bad, "--out", out, "--progress", "never")
	if !errors.Is(err, kvtext.ErrSyntax) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("build of a bad line: %v, want a syntax error on line 2", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed build left a bundle")
	}
	for _, flags := range [][]string{{"--index", "btree"}, {"--memory", "lots"}, {"--align", "3"}, {"--format", "csv"}, {"--progress", "maybe"}} {
		args := append([]string{"bundle", "build", "--in", bad, "--out", out}, flags...)
		if _, err := run(t, args...); err == nil {
			t.Errorf("build %v succeeded", flags)
		}
	}
}

func TestBundleGetMissingKey(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.bundle")
	mustRun(t, "bundle", "build", "--in", writeInput(t, "in.tsv", "k\tv\n"), "--out", out, "--progress", "never")
	if _, err := run(t, "bundle", "get", out, "nope"); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("get of a missing key: %v, want ErrNotFound", err)
	}
}

func TestBundleInfoAndVerify(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.bundle")
	text := strings.Repeat("k1\tthe same value, long enough\nk2\tthe same value, long enough\n", 1)
	mustRun(t, "bundle", "build", "--in", writeInput(t, "in.tsv", text), "--out", out, "--progress", "never")
	info := mustRun(t, "bundle", "info", out)
	for _, want := range []string{"index", "exact", "keys", "2 (", "1 deduplicated", "section data", "sections not checked"} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
	if got := mustRun(t, "bundle", "info", "--verify", out); !strings.Contains(got, "ok: every section") {
		t.Errorf("info --verify:\n%s", got)
	}
	if got := mustRun(t, "bundle", "verify", out); !strings.Contains(got, "ok (2 records") {
		t.Errorf("verify printed %q", got)
	}

	data, _ := os.ReadFile(out)
	data[len(data)-1] ^= 1
	os.WriteFile(out, data, 0o644)
	if _, err := run(t, "bundle", "verify", out); !errors.Is(err, bundle.ErrCorrupt) {
		t.Fatalf("verify of a corrupt bundle: %v, want ErrCorrupt", err)
	}
	if got, err := run(t, "bundle", "info", "--verify", out); !strings.Contains(got, "FAILED") || !errors.Is(err, bundle.ErrCorrupt) {
		t.Errorf("info --verify of a corrupt bundle: %v, want the info and ErrCorrupt\n%s", err, got)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestBundleBuildRefusesItsInput names the input file as the output by its
// path, a symbolic link, a hard link and through standard input: the build
// must refuse, leaving the input as it was.
func TestBundleBuildRefusesItsInput(t *testing.T) {
	const text = "k\tv\n"
	in := writeInput(t, "in.tsv", text)
	dir := filepath.Dir(in)
	symlink, hardlink := filepath.Join(dir, "sym.bundle"), filepath.Join(dir, "hard.bundle")
	if err := os.Symlink(in, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hardlink); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{in, symlink, hardlink} {
		_, err := run(t, "bundle", "build", "--in", in, "--out", out, "--progress", "never")
		if err == nil || !strings.Contains(err.Error(), "is the input file") {
			t.Errorf("--out %s: %v, want a refusal", filepath.Base(out), err)
		}
	}
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	f := buildFlags{in: "-", out: hardlink, format: "tsv", index: "exact", memory: "1MiB", progress: "never", align: 8}
	if err := runBundleBuild(io.Discard, io.Discard, stdin, f); err == nil || !strings.Contains(err.Error(), "is the input file") {
		t.Errorf("standard input from the output: %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(in); string(got) != text {
		t.Fatalf("the input now holds %q", got)
	}
}

// TestBundleBuildOutputChecked checks the output before reading the input: a
// missing directory is named (not the builder's temporary file), and a
// directory is refused.
func TestBundleBuildOutputChecked(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "absent")
	f := buildFlags{in: "-", out: filepath.Join(missing, "b.bundle"), format: "auto", index: "exact", memory: "1MiB", progress: "never", align: 8}
	err := runBundleBuild(io.Discard, io.Discard, unreadable{t}, f)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("--out in a missing directory: %v, want an error naming %s", err, missing)
	}
	f.out = dir
	if err := runBundleBuild(io.Discard, io.Discard, unreadable{t}, f); !errors.Is(err, bundle.ErrIsDir) {
		t.Errorf("--out a directory: %v, want ErrIsDir", err)
	}
}

// unreadable is an input that fails the test if it is read.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the input was read before the output was checked")
	return 0, io.EOF
}

// TestBundleBuildBinaryKeys builds from JSON lines whose keys differ only in
// bytes that are not UTF-8: given in base64 they stay two keys, given raw
// they are an error naming the line (they used to become one key, U+FFFD).
func TestBundleBuildBinaryKeys(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.bundle")
	in := writeInput(t, "in.jsonl", `{"key_base64":"/w==","value_base64":"AAE="}`+"\n"+`{"key_base64":"/g==","value":"two"}`+"\n")
	mustRun(t, "bundle", "build", "--in", in, "--out", out, "--progress", "never")
	b, err := bundle.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v, err := b.Get([]byte{0xff}); err != nil || string(v) != "\x00\x01" {
		t.Errorf("key ff: %q, %v", v, err)
	}
	if v, err := b.Get([]byte{0xfe}); err != nil || string(v) != "two" {
		t.Errorf("key fe: %q, %v", v, err)
	}
	raw := writeInput(t, "raw.jsonl", `{"key":"a","value":"1"}`+"\n"+`{"key":"`+"\xff"+`","value":"2"}`+"\n")
	_, err = run(t, "bundle", "build", "--in", raw, "--out", out+"2", "--progress", "never")
	if !errors.Is(err, kvtext.ErrSyntax) || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "key_base64") {
		t.Errorf("a raw key that is not UTF-8: %v, want a syntax error on line 2", err)
	}
}

// TestBundleBuildProgress checks that --progress auto draws nothing on a
// standard error that is not a terminal, and always draws there anyway.
func TestBundleBuildProgress(t *testing.T) {
	defer drawAtOnce()() // the build takes less than the second a bar waits
	// 3 MiB, read in 1 MiB pieces: a bar that reached its end at once would
	// be cleared without being drawn.
	in := writeInput(t, "in.tsv", strings.Repeat("k\tv\n", 3<<20/4))
	for mode, want := range map[string]bool{"auto": false, "never": false, "always": true} {
		var out, errOut bytes.Buffer
		f := buildFlags{in: in, out: filepath.Join(t.TempDir(), "b.bundle"), format: "auto", index: "exact", memory: "1MiB", progress: mode, align: 8}
		if err := runBundleBuild(&out, &errOut, nil, f); err != nil {
			t.Fatal(err)
		}
		if drew := strings.Contains(errOut.String(), "reading "+in); drew != want {
			t.Errorf("--progress %s: wrote %q to standard error", mode, errOut.String())
		}
	}
}
