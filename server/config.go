package server

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/bytesize"
	"github.com/tiermem/tiermem/internal/glob"
)

// A setting is one parameter CONFIG GET shows.
type setting struct {
	name string
	get  func(c *conn) string
	// set checks a new value and returns the function that applies it, or
	// why it cannot; nil for a setting fixed while the server runs. Apply
	// fails only where the Manager refuses (a budget pinned values exceed).
	set func(s *Server, v string) (apply func() error, why string)
}

// settings are CONFIG's parameters: the server's own, Redis's names for
// what tiermem has (or a fixed answer where tiermem has no such thing),
// and tiermem's, prefixed tiermem-.
var settings = []setting{
	{"requirepass", func(c *conn) string { return c.s.Password() }, setPassword},
	{"maxclients", func(c *conn) string { return strconv.FormatInt(c.s.maxClients.Load(), 10) }, setMaxClients},
	{"timeout", func(c *conn) string { return strconv.FormatInt(c.s.idle.Load()/int64(time.Second), 10) }, setTimeout},
	{"client-output-buffer-limit", func(c *conn) string { return fmt.Sprintf("normal %d 0 0", c.s.maxOutput.Load()) }, setOutputLimit},
	{"proto-max-bulk-len", func(c *conn) string { return strconv.FormatInt(c.s.opts.MaxBulkLen, 10) }, nil},
	{"save", fixed(""), onlyValue("", "tiermem saves on SAVE, BGSAVE and SHUTDOWN SAVE alone")},
	{"appendonly", fixed("no"), onlyValue("no", "tiermem writes no AOF: tiermem-durability makes writes durable")},
	{"appendfsync", func(c *conn) string { return appendFsync(c.s.m.Durability()) }, setAppendFsync},
	{"databases", fixed("1"), nil},
	{"maxmemory", func(c *conn) string { return strconv.FormatInt(memoryBudget(c.s.m), 10) }, nil},
	{"maxmemory-policy", fixed("noeviction"), nil},
	{"port", func(c *conn) string { return c.localPort() }, nil},
	{"dir", func(c *conn) string { return snapshotPart(c.s.opts.SnapshotPath, filepath.Dir) }, nil},
	{"dbfilename", func(c *conn) string { return snapshotPart(c.s.opts.SnapshotPath, filepath.Base) }, nil},
	{"tiermem-hot-budget", budget(tiermem.Hot), setBudget(tiermem.Hot)},
	{"tiermem-warm-budget", budget(tiermem.Warm), setBudget(tiermem.Warm)},
	{"tiermem-cold-budget", budget(tiermem.Cold), setBudget(tiermem.Cold)},
	{"tiermem-glacier-budget", budget(tiermem.Glacier), setBudget(tiermem.Glacier)},
	{"tiermem-hot-policy", policy(tiermem.Hot), setPolicy(tiermem.Hot)},
	{"tiermem-warm-policy", policy(tiermem.Warm), setPolicy(tiermem.Warm)},
	{"tiermem-cold-policy", policy(tiermem.Cold), setPolicy(tiermem.Cold)},
	{"tiermem-durability", func(c *conn) string { return c.s.m.Durability().String() }, setDurability},
}

func fixed(v string) func(*conn) string { return func(*conn) string { return v } }

// budget reads a tier's budget in bytes (0 for a tier the Manager has not).
func budget(t tiermem.Tier) func(*conn) string {
	return func(c *conn) string { return strconv.FormatInt(c.s.m.Usage()[t].Capacity, 10) }
}

// policy reads a tier's policy ("auto", "lru", ...; "" for a tier the
// Manager has not).
func policy(t tiermem.Tier) func(*conn) string {
	return func(c *conn) string {
		if p, err := c.s.m.TierPolicy(t); err == nil {
			return p.String()
		}
		return ""
	}
}

// memoryBudget is what tiermem keeps in memory at most: hot's and warm's
// budgets.
func memoryBudget(m *tiermem.Manager) int64 {
	u := m.Usage()
	return u[tiermem.Hot].Capacity + u[tiermem.Warm].Capacity
}

// appendFsync is Redis's name for a Durability.
func appendFsync(d tiermem.Durability) string {
	switch d {
	case tiermem.Always:
		return "always"
	case tiermem.EverySecond:
		return "everysec"
	}
	return "no"
}

func snapshotPart(path string, part func(string) string) string {
	if path == "" {
		return ""
	}
	return part(path)
}

func setPassword(s *Server, v string) (func() error, string) {
	return func() error { s.pass.Store(&v); return nil }, ""
}

func setMaxClients(s *Server, v string) (func() error, string) {
	n, why := configInt(v, 1, math.MaxUint32)
	return func() error { s.maxClients.Store(n); return nil }, why
}

func setTimeout(s *Server, v string) (func() error, string) {
	n, why := configInt(v, 0, math.MaxInt32)
	return func() error { s.setIdle(n * int64(time.Second)); return nil }, why
}

// setOutputLimit sets MaxOutput from Redis's form of the setting, "normal
// <hard> <soft> <seconds>" (hard in bytes or with a unit; 0 for none):
// tiermem has the hard limit of normal clients only.
func setOutputLimit(s *Server, v string) (func() error, string) {
	f := strings.Fields(v)
	if len(f) != 4 || !strings.EqualFold(f[0], "normal") {
		return nil, "tiermem has normal clients only: give normal <hard limit> 0 0"
	}
	hard, err := bytesize.Parse(f[1])
	if err != nil {
		return nil, err.Error()
	}
	if f[2] != "0" || f[3] != "0" {
		return nil, "tiermem has no soft output limit: give 0 0 after the hard limit"
	}
	if hard != 0 && hard < minOutputLimit {
		return nil, "the hard limit must be at least 1mb (0 for none): a pipeline's replies are written 64 KiB at a time"
	}
	return func() error {
		s.maxOutput.Store(hard)
		s.eachConn(func(c *conn) { c.send.wake() }) // a connection stopped at the old limit reads on under a higher one
		return nil
	}, ""
}

// setBudget sets a tier's budget (Manager.SetBudget), given in bytes or
// with a unit, as Redis reads them (64MiB, 2gb: powers of 1024; 1g: 10^9).
func setBudget(t tiermem.Tier) func(*Server, string) (func() error, string) {
	return func(s *Server, v string) (func() error, string) {
		n, err := bytesize.Parse(v)
		if err == nil {
			err = s.m.CheckBudget(t, n) // refused here, nothing is set
		}
		if err != nil {
			return nil, err.Error()
		}
		return func() error { return s.m.SetBudget(t, n) }, ""
	}
}

// setPolicy sets a tier's policy (Manager.SetTierPolicy): auto,
// adaptive, lru, lfu, fifo, clock or s3fifo.
func setPolicy(t tiermem.Tier) func(*Server, string) (func() error, string) {
	return func(s *Server, v string) (func() error, string) {
		p, err := tiermem.ParsePolicy(v)
		if err != nil {
			return nil, "argument must be one of the following: auto, adaptive, lru, lfu, fifo, clock, s3fifo"
		}
		return func() error { return s.m.SetTierPolicy(t, p) }, ""
	}
}

// setDurability sets tiermem-durability (none, every-second, always:
// Manager.SetDurability, which from none first writes what memory holds
// to the cold log).
func setDurability(s *Server, v string) (func() error, string) {
	d, err := tiermem.ParseDurability(v)
	if err != nil {
		return nil, "argument must be one of the following: none, every-second, always"
	}
	return func() error { return s.m.SetDurability(d) }, ""
}

// setAppendFsync sets the durability by Redis's names for it: always,
// everysec, and no (tiermem's none: Stores stay in memory until Close).
func setAppendFsync(s *Server, v string) (func() error, string) {
	d, ok := map[string]tiermem.Durability{"always": tiermem.Always, "everysec": tiermem.EverySecond, "no": tiermem.None}[strings.ToLower(v)]
	if !ok {
		return nil, "argument(s) must be one of the following: everysec, always, no"
	}
	return func() error { return s.m.SetDurability(d) }, ""
}

// sameAs returns the setting a parameter sets: appendfsync sets
// tiermem-durability, so a CONFIG SET may not name both, as Redis refuses
// a parameter and its alias together.
func sameAs(name string) string {
	if name == "appendfsync" {
		return "tiermem-durability"
	}
	return name
}

// onlyValue accepts the one value tiermem has, and refuses others with why.
func onlyValue(want, why string) func(*Server, string) (func() error, string) {
	return func(_ *Server, v string) (func() error, string) {
		if !strings.EqualFold(v, want) {
			return nil, why
		}
		return func() error { return nil }, ""
	}
}

// configInt parses an integer setting as Redis does, within [lo, hi].
func configInt(v string, lo, hi int64) (int64, string) {
	n, ok := parseInt([]byte(v))
	switch {
	case !ok:
		return 0, "argument couldn't be parsed into an integer"
	case n < lo || n > hi:
		return 0, fmt.Sprintf("argument must be between %d and %d inclusive", lo, hi)
	}
	return n, ""
}

var configSubcommands = map[string]int{"get": -3, "set": -4, "resetstat": 2, "rewrite": 2, "help": 2}

// cmdConfig serves CONFIG GET, SET, RESETSTAT, REWRITE (an error: there
// is no config file) and HELP.
func cmdConfig(c *conn, args [][]byte) {
	sub, ok := c.subcommand(commands["config"], args)
	if !ok {
		return
	}
	switch sub {
	case "get":
		c.configGet(args[2:])
	case "set":
		c.configSet(args[2:])
	case "resetstat":
		c.s.accepted.Store(0)
		c.s.rejected.Store(0)
		c.out.ok()
	case "rewrite":
		c.out.errorf("The server is running without a config file")
	default:
		c.help("CONFIG", []string{
			"GET <pattern>", "    Return the parameters matching the glob-like <pattern> and their values.",
			"SET <parameter> <value> [<parameter> <value> ...]", "    Set parameters: requirepass, maxclients, timeout, tiermem-*-budget, tiermem-*-policy, tiermem-durability and appendfsync change at runtime.",
			"RESETSTAT", "    Reset the statistics INFO reports.",
			"REWRITE", "    An error: tiermem serve takes its settings from flags and the environment.",
		})
	}
}

// configGet replies every setting some pattern matches, once, as a map,
// in any case; a pattern with no wildcard names a setting, and the reply
// spells it as the pattern does, as Redis's.
func (c *conn) configGet(patterns [][]byte) {
	var found []*setting
	var names []string
	for _, p := range patterns {
		lower := strings.ToLower(string(p))
		for i := range settings {
			st := &settings[i]
			if !slices.Contains(found, st) && glob.Match(lower, st.name) {
				found = append(found, st)
				names = append(names, st.name)
				if !strings.ContainsAny(lower, `*?[\`) {
					names[len(names)-1] = string(p)
				}
			}
		}
	}
	c.out.mapOf(len(found))
	for i, st := range found {
		c.out.bulkString(names[i])
		c.out.bulkString(st.get(c))
	}
}

// configSet sets every pair, or none: all are checked before any is
// applied.
func (c *conn) configSet(pairs [][]byte) {
	if len(pairs)%2 != 0 {
		c.out.error(errSyntax)
		return
	}
	var apply []func() error
	var names []string
	seen := map[string]bool{}
	for i := 0; i < len(pairs); i += 2 {
		name := lowerString(pairs[i])
		st := lookupSetting(name)
		if st == nil {
			c.out.errorf(fmt.Sprintf("Unknown option or number of arguments for CONFIG SET - '%s'", cString(pairs[i], len(pairs[i]))))
			return
		}
		// Redis names a bad value's parameter in lower case, the others as
		// the client typed them.
		why, shown := "", name
		switch {
		case st.set == nil:
			why, shown = "can't set immutable config", string(pairs[i])
		case seen[sameAs(name)]:
			why, shown = "duplicate parameter", string(pairs[i])
		}
		seen[sameAs(name)] = true
		if why == "" {
			var fn func() error
			fn, why = st.set(c.s, string(pairs[i+1]))
			apply, names = append(apply, fn), append(names, name)
		}
		if why != "" {
			c.out.errorf(fmt.Sprintf("CONFIG SET failed (possibly related to argument '%s') - %s", shown, why))
			return
		}
	}
	// A change may wait (a durability change, for a snapshot in flight; a
	// budget, for demotions): the other clients are served meanwhile, and
	// an MSET waiting to run alone does not stop them all behind it.
	c.release()
	olds := make([]string, len(names))
	for i, fn := range apply {
		olds[i] = lookupSetting(names[i]).get(c)
		if err := fn(); err != nil {
			// A setting may fail once taken (a budget the tier cannot
			// reach, its holdings pinned): it is set back too.
			c.setBack(names[:i+1], olds[:i+1])
			c.out.errorf(fmt.Sprintf("CONFIG SET failed (possibly related to argument '%s') - %s", names[i], err.Error()))
			return
		}
	}
	c.out.ok()
}

// setBack gives the settings named the values they had, the last first,
// after one of the same CONFIG SET failed, as Redis does. What
// fails here stays as set: the reply names the failure that began it.
func (c *conn) setBack(names, olds []string) {
	for i := len(names) - 1; i >= 0; i-- {
		if fn, why := lookupSetting(names[i]).set(c.s, olds[i]); why == "" {
			fn()
		}
	}
}

func lookupSetting(name string) *setting {
	for i := range settings {
		if settings[i].name == name {
			return &settings[i]
		}
	}
	return nil
}
