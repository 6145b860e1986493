package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/pflag"
	"github.com/tiermem/tiermem/internal/bytesize"
)

// A config file sets serve's flags, one per line, as redis.conf does:
//
//	# comment
//	addr 0.0.0.0:6380
//	hot 8GiB
//	requirepass "a password with spaces"
//	http ""
//
// A line is a flag's name (without the dashes), blanks, and its value: the
// rest of the line, or a double-quoted Go string when it starts with ".
// Blank lines and lines whose first non-blank byte is # are skipped. A name
// given twice takes its last value.

// configSetting is one line of a config file.
type configSetting struct {
	name, value string
	line        int
}

// errConfigFile marks every error about a config file's contents.
var errConfigFile = errors.New("config file")

// maxConfigLine bounds one line of a config file.
const maxConfigLine = 64 << 10

// parseConfig reads the settings of a config file; file names it in the
// errors, which say file:line.
func parseConfig(r io.Reader, file string) ([]configSetting, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxConfigLine)
	var out []configSetting
	n := 0
	for sc.Scan() {
		n++
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // the byte order mark some editors write
		}
		s, ok, err := parseConfigLine(text)
		if err != nil {
			return nil, fmt.Errorf("%w %s:%d: %v", errConfigFile, file, n, err)
		}
		if ok {
			s.line = n
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w %s:%d: a line longer than %d bytes", errConfigFile, file, n+1, maxConfigLine)
		}
		return nil, fmt.Errorf("%w %s: %w", errConfigFile, file, err)
	}
	return out, nil
}

// parseConfigLine parses one line; ok is false for a blank or comment line.
func parseConfigLine(line string) (s configSetting, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return s, false, nil
	}
	name, value := line, ""
	if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
		name, value = line[:i], strings.TrimSpace(line[i+1:])
	}
	if strings.HasPrefix(value, `"`) {
		v, err := strconv.Unquote(value)
		if err != nil {
			return s, false, fmt.Errorf("%s: bad quoted value %s (a Go string: \\\" and \\\\ escape)", name, value)
		}
		value = v
	} else if value == "" {
		return s, false, fmt.Errorf("%s: no value (write \"\" for an empty one)", name)
	}
	if strings.HasPrefix(name, "-") {
		return s, false, fmt.Errorf("%q: write the name without dashes", name)
	}
	return configSetting{name: name, value: value}, true, nil
}

// applyConfigFile sets, from the file at path, every flag that neither the
// command line nor a TIERMEM_* variable set (those in skip). A name that
// is no flag of serve, the config flag itself, or a value the flag refuses
// is an error naming file:line.
func applyConfigFile(flags *pflag.FlagSet, path string, skip map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", errConfigFile, err)
	}
	defer f.Close()
	settings, err := parseConfig(f, path)
	if err != nil {
		return err
	}
	for _, s := range settings {
		fl := flags.Lookup(s.name)
		if fl == nil || s.name == "config" || s.name == "help" {
			return fmt.Errorf("%w %s:%d: unknown setting %q (the settings are serve's flags: tiermem serve --help)", errConfigFile, path, s.line, s.name)
		}
		if fl.Changed || skip[s.name] {
			continue
		}
		if err := fl.Value.Set(s.value); err != nil {
			return fmt.Errorf("%w %s:%d: %s: %v", errConfigFile, path, s.line, s.name, err)
		}
	}
	return nil
}

// checked is a string flag whose value check refuses at Set, so that a bad
// value is reported where it was given: flag, variable or config file line.
type checked struct {
	p     *string
	check func(string) error
	typ   string
}

func (c checked) String() string {
	if c.p == nil {
		return ""
	}
	return *c.p
}

func (c checked) Set(v string) error {
	if err := c.check(v); err != nil {
		return err
	}
	*c.p = v
	return nil
}

func (c checked) Type() string { return c.typ }

// byteCount checks a byte count such as 64MiB.
func byteCount(v string) error {
	_, err := bytesize.Parse(v)
	return err
}

// budget checks a tier's budget: at least one byte, or "" for the
// Manager's default. 0 is refused, as CONFIG SET refuses it: the Manager
// reads a Size of 0 as its default, the opposite of what 0 asks for.
func budget(v string) error {
	if v == "" {
		return nil
	}
	return positiveBytes(v)
}

// positiveBytes checks a byte count of at least one byte.
func positiveBytes(v string) error {
	n, err := bytesize.Parse(v)
	if err == nil && n == 0 {
		err = errors.New("want at least one byte")
	}
	return err
}

// oneOf checks that a value is one of names.
func oneOf(names ...string) func(string) error {
	return func(v string) error {
		for _, n := range names {
			if v == n {
				return nil
			}
		}
		return fmt.Errorf("%q: want %s", v, strings.Join(names, ", "))
	}
}
