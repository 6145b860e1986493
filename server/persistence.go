package server

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tiermem/tiermem"
)

func serverCommands() []*command {
	return []*command{
		{name: "save", arity: 1, flags: noMulti, run: cmdSave},
		{name: "bgsave", arity: -1, run: cmdBGSave},
		{name: "lastsave", arity: 1, run: cmdLastSave},
		{name: "shutdown", arity: -1, flags: noMulti, run: cmdShutdown},
		{name: "config", arity: -2, run: cmdConfig, subs: configSubcommands},
	}
}

// saver runs SAVE and BGSAVE, one at a time, through the Manager's
// Snapshot, and keeps what INFO persistence reports.
type saver struct {
	background sync.WaitGroup // a BGSAVE's goroutine

	mu        sync.Mutex // protects the fields below
	running   bool
	bg        bool      // the running save is a BGSAVE
	started   time.Time // of the running save
	last      time.Time // of the last one that succeeded; the server's start before any
	failed    bool      // the last save failed
	took      time.Duration
	saves     int64
	changesAt int64 // Server.changes when the last successful save began
}

// errSaving is SAVE's and BGSAVE's reply while one runs.
var errSaving error = &replyError{"ERR Background save already in progress"}

// beginSave marks a save as running, or returns errSaving.
func (s *Server) beginSave(bg bool) (int64, error) {
	s.saves.mu.Lock()
	defer s.saves.mu.Unlock()
	if s.saves.running {
		return 0, errSaving
	}
	if s.opts.SnapshotPath == "" {
		return 0, errors.New("snapshots are off: the server has no SnapshotPath")
	}
	s.saves.running, s.saves.bg, s.saves.started = true, bg, time.Now()
	return s.changes.Load(), nil
}

// snapshot writes the snapshot and records how it went. Its instant is
// taken with no other command running (the server's exclusive lock, held
// until the first progress report, which follows the instant), so that it
// falls between two commands, never inside an MSET or an EXEC; alone says
// the caller runs alone already (a SAVE in an EXEC).
func (s *Server) snapshot(changesAt int64, alone bool) error {
	start := time.Now()
	var unlock sync.Once
	opts := &tiermem.SnapshotOptions{}
	if !alone {
		s.lockAlone()
		defer unlock.Do(s.unlockAlone)
		opts.Progress = func(tiermem.SnapshotProgress) { unlock.Do(s.unlockAlone) }
	}
	_, err := s.m.Snapshot(s.opts.SnapshotPath, opts)
	s.saves.mu.Lock()
	defer s.saves.mu.Unlock()
	s.saves.running, s.saves.bg = false, false
	s.saves.took, s.saves.failed = time.Since(start), err != nil
	if err != nil {
		s.log.Error("server: saving a snapshot", "path", s.opts.SnapshotPath, "error", err)
		return err
	}
	s.saves.last, s.saves.changesAt = start, changesAt
	s.saves.saves++
	return nil
}

// save runs a save now, in the caller's goroutine, which holds no lock of
// the server's, or runs alone (alone).
func (s *Server) save(alone bool) error {
	at, err := s.beginSave(false)
	if err != nil {
		return err
	}
	return s.snapshot(at, alone)
}

// cmdSave serves SAVE: +OK once the snapshot is on disk. Other clients
// are served meanwhile.
func cmdSave(c *conn, _ [][]byte) {
	c.release()
	if err := c.s.save(c.isAlone); err != nil {
		c.saveError(err)
		return
	}
	c.out.ok()
}

// cmdBGSave serves BGSAVE [SCHEDULE]: the snapshot is written by a
// goroutine of its own. With no AOF rewrite to wait for, SCHEDULE is
// BGSAVE.
func cmdBGSave(c *conn, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !equalFold(args[1], "schedule") {
		c.out.error(errSyntax)
		return
	}
	at, err := c.s.beginSave(true)
	if err != nil {
		c.saveError(err)
		return
	}
	c.s.saves.background.Add(1)
	go func() {
		defer c.s.saves.background.Done()
		c.s.snapshot(at, false)
	}()
	c.out.status("Background saving started")
}

// saveError replies a SAVE's or BGSAVE's error.
func (c *conn) saveError(err error) {
	if errors.Is(err, errSaving) {
		c.out.error(err.Error())
		return
	}
	c.out.errorf(err.Error())
}

// cmdLastSave serves LASTSAVE: the Unix time of the last save that
// succeeded (the server's start before any, as Redis's).
func cmdLastSave(c *conn, _ [][]byte) {
	c.s.saves.mu.Lock()
	defer c.s.saves.mu.Unlock()
	c.out.int(c.s.saves.last.Unix())
}

// cmdShutdown serves SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: with
// SAVE it writes a snapshot first (a failure stops it unless FORCE), then
// it calls Options.OnShutdown and closes the connection without a reply.
// Without SAVE nothing is saved beyond what closing the Manager keeps
// (hot and warm persisted to cold). NOW and FORCE change nothing else:
// there are no replicas to wait for.
func cmdShutdown(c *conn, args [][]byte) {
	var save, noSave, abort, other, force bool
	for _, a := range args[1:] {
		switch {
		case equalFold(a, "save"):
			save = true
		case equalFold(a, "nosave"):
			noSave = true
		case equalFold(a, "abort"):
			abort = true
		case equalFold(a, "force"):
			force, other = true, true
		case equalFold(a, "now"):
			other = true
		default:
			c.out.error(errSyntax)
			return
		}
	}
	if abort && (save || noSave || other) || save && noSave {
		c.out.error(errSyntax)
		return
	}
	if abort {
		c.out.errorf("No shutdown in progress.")
		return
	}
	if save && !c.shutdownSave() && !force {
		c.out.errorf("Errors trying to SHUTDOWN. Check logs.")
		return
	}
	if c.s.opts.OnShutdown == nil {
		c.s.log.Error("server: SHUTDOWN refused: the server has no OnShutdown", "client", c.info.addr)
		c.out.errorf("Errors trying to SHUTDOWN. Check logs.")
		return
	}
	c.s.log.Info("server: SHUTDOWN", "client", c.info.addr, "save", save)
	if c.s.down.CompareAndSwap(false, true) {
		go c.s.opts.OnShutdown()
	}
	c.quit = true
}

// shutdownSave writes a snapshot for SHUTDOWN SAVE, after a BGSAVE
// running, and reports whether it could.
func (c *conn) shutdownSave() bool {
	c.release()
	for {
		err := c.s.save(c.isAlone)
		if !errors.Is(err, errSaving) {
			return err == nil
		}
		c.s.saves.background.Wait()
		time.Sleep(time.Millisecond) // a SAVE of another client
	}
}

// infoPersistence is INFO's persistence section: Redis's fields, the RDB
// ones about tiermem's snapshots. tiermem writes no AOF (its cold tier's
// log is what Durability makes durable): the AOF fields are Redis's for
// appendonly no.
func infoPersistence(c *conn, b *strings.Builder) {
	sv := &c.s.saves
	sv.mu.Lock()
	running, bg, started, last, failed, took, saves, at := sv.running, sv.bg, sv.started, sv.last, sv.failed, sv.took, sv.saves, sv.changesAt
	sv.mu.Unlock()
	status, current, lastTook := "ok", int64(-1), int64(-1)
	if failed {
		status = "err"
	}
	if running && bg {
		current = int64(time.Since(started).Seconds())
	}
	if saves > 0 || failed {
		lastTook = int64(took.Seconds())
	}
	fmt.Fprintf(b, "loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:%d\r\nrdb_bgsave_in_progress:%d\r\n",
		c.s.changes.Load()-at, boolInt(running && bg))
	fmt.Fprintf(b, "rdb_last_save_time:%d\r\nrdb_last_bgsave_status:%s\r\nrdb_last_bgsave_time_sec:%d\r\nrdb_current_bgsave_time_sec:%d\r\nrdb_saves:%d\r\n",
		last.Unix(), status, lastTook, current, saves)
	b.WriteString("aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\n" +
		"aof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_last_write_status:ok\r\n")
	fmt.Fprintf(b, "tiermem_durability:%s\r\ntiermem_snapshot_path:%s\r\n", c.s.m.Durability(), c.s.opts.SnapshotPath)
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
