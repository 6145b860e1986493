package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []configSetting
		err  string // a part of the error, "" for none
	}{
		{in: "", want: nil},
		{in: "# only a comment\n\n   \n\t# indented comment\n", want: nil},
		{in: "addr 0.0.0.0:6380\n", want: []configSetting{{"addr", "0.0.0.0:6380", 1}}},
		{in: "hot\t8GiB\r\n  warm   16GiB  \n", want: []configSetting{{"hot", "8GiB", 1}, {"warm", "16GiB", 2}}},
		{in: "# c\nrequirepass \"a b \\\"c\\\"\"\n", want: []configSetting{{"requirepass", `a b "c"`, 2}}},
		{in: "http \"\"\n", want: []configSetting{{"http", "", 1}}},
		{in: "requirepass a#b\n", want: []configSetting{{"requirepass", "a#b", 1}}},
		{in: "hot 1GiB\nhot 2GiB", want: []configSetting{{"hot", "1GiB", 1}, {"hot", "2GiB", 2}}},
		{in: "addr 1\nhot\n", err: "f.conf:2: hot: no value"},
		{in: "requirepass \"open\n", err: "f.conf:1: requirepass: bad quoted value"},
		{in: "\n\n--hot 1GiB\n", err: "f.conf:3:"},
		{in: "hot " + strings.Repeat("x", maxConfigLine+1), err: "longer than"},
	} {
		got, err := parseConfig(strings.NewReader(tc.in), "f.conf")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, errConfigFile) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: setting %d is %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// resolved returns the settings serve would run with for args, the
// environment as set by t.Setenv.
func resolved(t *testing.T, args ...string) (serveConfig, error) {
	t.Helper()
	var got serveConfig
	cmd := serveCommand(func(_ context.Context, cfg serveConfig, _ io.Writer) error {
		got = cfg
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return got, err
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiermem.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigPrecedence: flag > TIERMEM_* > file > default.
func TestConfigPrecedence(t *testing.T) {
	p := writeConfig(t, "# all four from the file\naddr 127.0.0.1:1\nhot 1MiB\nwarm 2MiB\ndurability always\nidle-timeout 5s\nno-glacier true\nhttp \"\"\n")
	t.Setenv("TIERMEM_HOT", "3MiB")
	t.Setenv("TIERMEM_WARM", "4MiB")
	cfg, err := resolved(t, "--config", p, "--warm", "5MiB")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:1" || cfg.hot != "3MiB" || cfg.warm != "5MiB" || cfg.durability != "always" ||
		cfg.idle != 5*time.Second || !cfg.noGlacier || cfg.http != "" {
		t.Errorf("resolved %+v", cfg)
	}
	if cfg.dir != "./tiermem-data" || cfg.analytics != time.Second || cfg.maxBody != "1GiB" {
		t.Errorf("defaults lost: %+v", cfg)
	}
	// The file named by the variable.
	t.Setenv("TIERMEM_CONFIG", p)
	if cfg, err = resolved(t); err != nil || cfg.addr != "127.0.0.1:1" {
		t.Errorf("TIERMEM_CONFIG: %+v, %v", cfg, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"hot 1MiB\nhott 2MiB\n", ":2: unknown setting \"hott\""},
		{"config other.conf\n", ":1: unknown setting \"config\""},
		{"help true\n", ":1: unknown setting \"help\""},
		{"\n\nhot lots\n", ":3: hot: want a byte count"},
		{"durability sometimes\n", ":1: durability: \"sometimes\": want none, every-second, always"},
		{"max-clients many\n", ":1: max-clients:"},
		{"idle-timeout 5\n", ":1: idle-timeout:"},
		{"max-body 0\n", ":1: max-body: want at least one byte"},
		{"log-format xml\n", ":1: log-format:"},
	} {
		p := writeConfig(t, tc.text)
		_, err := resolved(t, "--config", p)
		if err == nil || !strings.Contains(err.Error(), p+tc.want) || !errors.Is(err, errConfigFile) {
			t.Errorf("%q: error %v, want one containing %q", tc.text, err, p+tc.want)
		}
	}
	if _, err := resolved(t, "--config", filepath.Join(t.TempDir(), "absent.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	// A bad value in the file is no error when a flag or variable overrides it.
	p := writeConfig(t, "hot lots\n")
	if _, err := resolved(t, "--config", p, "--hot", "1MiB"); err != nil {
		t.Errorf("a bad file value under a flag: %v", err)
	}
	if _, err := resolved(t, "--tls-cert", "c.pem"); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("a certificate without a key: %v", err)
	}
	if _, err := resolved(t, "--analytics-interval", "-1s"); err == nil {
		t.Errorf("a negative analytics interval: no error")
	}
	t.Setenv("TIERMEM_DURABILITY", "sometimes")
	if _, err := resolved(t); err == nil || !strings.Contains(err.Error(), "TIERMEM_DURABILITY") {
		t.Errorf("a bad variable: %v", err)
	}
}

// FuzzParseConfig: any input parses or fails with errConfigFile, never
// panics; every setting found has a name without blanks, and parsing the
// settings written back gives them again.
func FuzzParseConfig(f *testing.F) {
	f.Add("addr 0.0.0.0:6380\nhot 8GiB\n")
	f.Add("# c\nrequirepass \"a \\\"b\\\"\"\nhttp \"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseConfig(strings.NewReader(in), "f")
		if err != nil {
			if !errors.Is(err, errConfigFile) {
				t.Fatalf("error %v does not wrap errConfigFile", err)
			}
			return
		}
		var b strings.Builder
		for _, s := range got {
			if s.name == "" || strings.ContainsAny(s.name, " \t\r\n") {
				t.Fatalf("name %q", s.name)
			}
			b.WriteString(s.name + " " + strconv.Quote(s.value) + "\n")
		}
		again, err := parseConfig(strings.NewReader(b.String()), "f")
		if err != nil || len(again) != len(got) {
			t.Fatalf("written back %q: %+v, %v", b.String(), again, err)
		}
		for i := range got {
			if again[i].name != got[i].name || again[i].value != got[i].value {
				t.Fatalf("setting %d: %+v, then %+v", i, got[i], again[i])
			}
		}
	})
}

// TestPolicyFlags: --hot-policy, --warm-policy and --cold-policy (and
// their variables and config lines) become the tiers' Policy options.
func TestPolicyFlags(t *testing.T) {
	p := writeConfig(t, "cold-policy lfu\n")
	t.Setenv("TIERMEM_WARM_POLICY", "s3fifo")
	cfg, err := resolved(t, "--config", p, "--hot-policy", "lru")
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.managerOptions()
	if err != nil {
		t.Fatal(err)
	}
	if o.Hot.Policy != tiermem.PolicyLRU || o.Warm.Policy != tiermem.PolicyS3FIFO || o.Cold.Policy != tiermem.PolicyLFU {
		t.Errorf("policies %v %v %v, want lru s3fifo lfu", o.Hot.Policy, o.Warm.Policy, o.Cold.Policy)
	}
	if _, err := resolved(t, "--hot-policy", "random"); err == nil {
		t.Error("--hot-policy random: no error")
	}
}
