package disk_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/zeebo/xxh3"
)

// TestHostileRepairSealedCutWithValueDamage: a sealed segment cut on a
// record boundary (hint file gone) that also holds one record whose value
// does not verify: Repair reports the cut as unreadable damage (the lost
// records may have been any key's newest) besides the value, since a damaged
// value is still a record and explains none of the shortfall against the
// seal. (It reported only the value, and the store then served k's older
// value with nothing saying a key could have gone back.)
func TestHostileRepairSealedCutWithValueDamage(t *testing.T) {
	dir, seg2, cut := buildOverwrittenInMiddle(t)
	s := openStore(t, dir, hostileOpts)
	pad2 := locate(t, s, "pad2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if pad2.File != seg2 || pad2.ValueOff+100 >= cut {
		t.Fatalf("pad2 is not before the cut in %s: the layout changed", filepath.Base(seg2))
	}
	if err := os.Truncate(seg2, cut); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(strings.TrimSuffix(seg2, ".seg") + ".hint"); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(seg2, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'Z'}, pad2.ValueOff+100); err != nil {
		t.Fatal(err)
	}
	f.Close()

	rep, err := disk.Repair(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Unreadable() {
		s := openStore(t, dir, hostileOpts)
		v, gerr := s.Get("k", nil)
		s.Close()
		t.Fatalf("Repair of a sealed segment cut on a record boundary, with a damaged value before the cut, reported %+v: "+
			"no unreadable damage, and k now reads %q, %v (its newer value was cut)", rep.Damage, v, gerr)
	}
}

// TestHostileFormat1WriterAppendsToSealedTail: a format 1 writer (the
// release before the seal, after a rollback) reads a format 2 store, reopens
// the sealed tail a clean Close left and appends to it, leaving its header
// sealed with the old count and a hint for the longer segment. This builds
// exactly that file (the tail sealed with five records over six records and
// their hint); upgrading again, Open reads all six keys, as an unsealed
// segment (it failed with ErrCorrupt, "its end was cut").
func TestHostileFormat1WriterAppendsToSealedTail(t *testing.T) {
	opts := &disk.Options{SegmentSize: 1 << 20, Compression: disk.NoCompression, CompactThreshold: -1}
	sealed5, appended := t.TempDir(), t.TempDir()
	s := openStore(t, sealed5, opts)
	keys := fill(t, s, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, appended, opts)
	fill(t, s, 5)
	mustPut(t, s, "after", valueOf("after", 0), nil)
	seg := locate(t, s, "after").File
	if locate(t, s, keys[0]).File != seg {
		t.Fatal("the keys are in several segments: the layout changed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(sealed5, filepath.Base(seg)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old[32:], body[32:len(old)]) {
		t.Fatal("the two stores' first five records differ: this test proves nothing")
	}
	// What the previous release leaves: the sealed header it did not touch,
	// the record it appended, and its hint file for all six.
	if err := os.WriteFile(seg, append(old[:32:32], body[32:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = disk.Open(appended, opts)
	if err != nil {
		t.Fatalf("Open of a store whose sealed tail a format 1 release appended to: %v", err)
	}
	defer s.Close()
	checkAll(t, s, append(keys, "after"))
}

// The kill test's child puts keys in turn, closing and reopening the store
// every few puts and compacting now and then, and prints "ok I" once put I
// returned; the parent SIGKILLs it at a random moment (mid-rotation,
// mid-compaction, mid-Close, mid-Open) and reopens the store.

const (
	hostileKillDirEnv  = "TIERMEM_SEAL_KILL_DIR"
	hostileKillModeEnv = "TIERMEM_SEAL_KILL_MODE"
	hostileKillKeys    = 7
)

func hostileKillOpts(mode disk.SyncMode) *disk.Options {
	return &disk.Options{Sync: mode, SegmentSize: 8 << 10, CompactThreshold: 0.05}
}

// hostileKillValue is the value put I writes: its key is "k" and I mod
// hostileKillKeys.
func hostileKillValue(round, i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("r%d-i%d;", round, i)), 10+(i*7919)%300)
}

func TestHostileKillChild(t *testing.T) {
	dir := os.Getenv(hostileKillDirEnv)
	if dir == "" {
		t.Skip("the child of TestHostileKillSealedStore")
	}
	mode, _ := strconv.Atoi(os.Getenv(hostileKillModeEnv))
	round, _ := strconv.Atoi(os.Getenv(hostileKillRoundEnv))
	opts := hostileKillOpts(disk.SyncMode(mode))
	fmt.Println("ready")
	for i := 0; ; {
		s, err := disk.Open(dir, opts)
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(2)
		}
		for end := i + 25; i < end; i++ {
			if _, err := s.Put(fmt.Sprint("k", i%hostileKillKeys), hostileKillValue(round, i), nil); err != nil {
				fmt.Println("put:", err)
				os.Exit(3)
			}
			fmt.Println("ok", i)
			if i%11 == 10 {
				if err := s.Compact(); err != nil {
					fmt.Println("compact:", err)
					os.Exit(3)
				}
			}
		}
		if err := s.Close(); err != nil {
			fmt.Println("close:", err)
			os.Exit(3)
		}
	}
}

const hostileKillRoundEnv = "TIERMEM_SEAL_KILL_ROUND"

// TestHostileKillSealedStore: a store a SIGKILL leaves, at any step of
// rotation (the seal and hint of the old segment), compaction, Close (the
// seal of the tail) or Open (the unseal of the tail), must Open, and every
// key must read a value of its own: under SyncAlways the last one
// acknowledged (or the unacknowledged one after), under the other modes
// one of the puts made (a lost buffered write may leave an older one).
func TestHostileKillSealedStore(t *testing.T) {
	if os.Getenv(hostileKillDirEnv) != "" {
		t.Skip("in the child")
	}
	for _, mode := range []disk.SyncMode{disk.SyncNone, disk.SyncEvery(20 * time.Millisecond), disk.SyncAlways} {
		t.Run(fmt.Sprint("mode ", int(mode)), func(t *testing.T) {
			dir := t.TempDir()
			for round := range 12 {
				last := hostileKill(t, dir, mode, round, time.Duration(20+rand.IntN(200))*time.Millisecond)
				t.Logf("round %d: %d puts acknowledged", round, last+1)
				s, err := disk.Open(dir, hostileKillOpts(mode))
				if err != nil {
					t.Fatalf("round %d: Open after the kill (last put acknowledged %d): %v", round, last, err)
				}
				for k := range hostileKillKeys {
					key := fmt.Sprint("k", k)
					v, err := s.Get(key, nil)
					if errors.Is(err, tier.ErrNotFound) && (mode != disk.SyncAlways || last < k) {
						continue
					}
					if err != nil {
						s.Close()
						t.Fatalf("round %d: Get(%s): %v", round, key, err)
					}
					var r, i int
					if _, err := fmt.Sscanf(string(v), "r%d-i%d;", &r, &i); err != nil || !bytes.Equal(v, hostileKillValue(r, i)) || i%hostileKillKeys != k {
						s.Close()
						t.Fatalf("round %d: %s reads %.40q, no value put", round, key, v)
					}
					if mode == disk.SyncAlways && last >= k && r != round {
						s.Close()
						t.Fatalf("round %d: %s reads a value of round %d; this round's put of it was acknowledged", round, key, r)
					}
					if mode == disk.SyncAlways && r == round {
						newest := last - ((last-k)%hostileKillKeys+hostileKillKeys)%hostileKillKeys // the last acknowledged put of key
						if i != newest && i != newest+hostileKillKeys {
							s.Close()
							t.Fatalf("round %d: %s reads put %d; the last acknowledged was %d", round, key, i, newest)
						}
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// hostileKill runs the child on dir for round, kills it after d and returns
// the last put it acknowledged (-1 for none).
func hostileKill(t *testing.T, dir string, mode disk.SyncMode, round int, d time.Duration) int {
	t.Helper()
	cmd := childtest.Command("TestHostileKillChild", hostileKillDirEnv+"="+dir,
		fmt.Sprintf("%s=%d", hostileKillModeEnv, int(mode)), fmt.Sprintf("%s=%d", hostileKillRoundEnv, round))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		t.Fatalf("round %d: the child did not start: %q", round, lines.Text())
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	last := -1
	for lines.Scan() {
		var i int
		if _, err := fmt.Sscanf(lines.Text(), "ok %d", &i); err != nil {
			cmd.Process.Kill()
			t.Fatalf("round %d: the child says %q", round, lines.Text())
		}
		last = i
	}
	io.Copy(io.Discard, stdout)
	return last
}

// TestHostileFormat1StoreOpens: format 2 promises to read format 1, whose
// segment headers are version 1 and unsealed. A store whose every header
// is rewritten as format 1 wrote it (compacted and hinted segments and the
// tail among them) must open with every key, take appends to its tail and
// open again after a Close and after a crash.
func TestHostileFormat1StoreOpens(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	keys := fill(t, s, 12)
	for _, k := range keys[:4] {
		mustPut(t, s, k, valueOf(k, 0), nil) // dead records for compaction
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil || len(segs) < 2 {
		t.Fatalf("%d segments, %v: the layout changed", len(segs), err)
	}
	for _, name := range segs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if b[12]&2 == 0 {
			t.Fatalf("%s is not sealed after a Close", filepath.Base(name))
		}
		binary.LittleEndian.PutUint16(b[8:], 1)
		b[12] &^= 2
		binary.LittleEndian.PutUint32(b[24:], 0)
		binary.LittleEndian.PutUint32(b[28:], uint32(xxh3.Hash(b[:28])))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, dir, hostileOpts)
	checkAll(t, s, keys)
	mustPut(t, s, "after", valueOf("after", 0), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, hostileOpts)
	checkAll(t, s, append(keys, "after"))
	mustPut(t, s, "crash", valueOf("crash", 0), nil)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Crash()
	s = openStore(t, dir, hostileOpts)
	defer s.Close()
	checkAll(t, s, append(keys, "after", "crash"))
}

// TestHostileFullDiskSeals: on a full disk the seals (a header rewritten in
// place) succeed while the hint files after them fail. Puts until the
// disk is full, then Close, must leave a store that opens on the still
// full disk with every acknowledged key, and again once there is room.
func TestHostileFullDiskSeals(t *testing.T) {
	mnt := tmpfs.Mount(t, "1m")
	dir := filepath.Join(mnt, "store")
	opts := &disk.Options{Sync: disk.SyncAlways, SegmentSize: 64 << 10, Compression: disk.NoCompression, CompactThreshold: -1}
	s := openStore(t, dir, opts)
	var acked []string
	for i := 0; ; i++ {
		k := fmt.Sprint("k", i)
		if _, err := s.Put(k, valueOf(k, 0), nil); err != nil {
			if !errors.Is(err, tier.ErrNoSpace) && !strings.Contains(err.Error(), "no space") {
				t.Fatalf("Put %d on a full disk: %v", i, err)
			}
			break
		}
		acked = append(acked, k)
	}
	if len(acked) < 100 {
		t.Fatalf("only %d puts before the disk was full", len(acked))
	}
	s.Close() // may report the hints it could not write
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	unhinted := 0
	for _, name := range segs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(strings.TrimSuffix(name, ".seg") + ".hint"); b[12]&2 != 0 && err != nil {
			unhinted++
		}
	}
	t.Logf("%d segments, %d sealed without a hint file", len(segs), unhinted)
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open on the full disk after %d puts: %v", len(acked), err)
	}
	checkAll(t, s, acked)
	s.Close()
	tmpfs.Grow(t, mnt, "4m")
	s = openStore(t, dir, opts)
	mustPut(t, s, "after", valueOf("after", 0), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	defer s.Close()
	checkAll(t, s, append(acked, "after"))
}

// TestHostileRepairSealedDamageKinds: Repair of each kind of damage to a
// sealed segment that is not the tail (its hint file gone, as Repair
// finds it after any damage) leaves a store that opens, and that a second
// Repair finds clean: the rewritten segment's seal must count the records
// Repair wrote.
func TestHostileRepairSealedDamageKinds(t *testing.T) {
	damages := map[string]func(t *testing.T, seg string, pad2 disk.Location, cut int64){
		"flipped head bit": func(t *testing.T, seg string, pad2 disk.Location, _ int64) {
			hostileXor(t, seg, pad2.Off+9, 0x04)
		},
		"bad value": func(t *testing.T, seg string, pad2 disk.Location, _ int64) {
			hostileXor(t, seg, pad2.ValueOff+100, 0xff)
		},
		"unreadable head": func(t *testing.T, seg string, pad2 disk.Location, _ int64) {
			for i := range int64(12) {
				hostileXor(t, seg, pad2.Off+i, 0x5a)
			}
		},
		"cut in a record": func(t *testing.T, seg string, _ disk.Location, cut int64) {
			if err := os.Truncate(seg, cut+7); err != nil {
				t.Fatal(err)
			}
		},
		"garbage after the end": func(t *testing.T, seg string, _ disk.Location, _ int64) {
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(bytes.Repeat([]byte{0xa5}, 100))
			f.Close()
		},
		"zeros after the end": func(t *testing.T, seg string, _ disk.Location, _ int64) {
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(make([]byte, 100))
			f.Close()
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			dir, seg2, cut := buildOverwrittenInMiddle(t)
			s := openStore(t, dir, hostileOpts)
			pad2 := locate(t, s, "pad2")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			os.Remove(strings.TrimSuffix(seg2, ".seg") + ".hint")
			damage(t, seg2, pad2, cut)
			rep, err := disk.Repair(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Clean() {
				t.Fatalf("Repair found no damage")
			}
			s, err = disk.Open(dir, hostileOpts)
			if err != nil {
				t.Fatalf("Open after Repair (%+v): %v", rep.Damage, err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if rep2, err := disk.Repair(dir, nil); err != nil || !rep2.Clean() {
				t.Fatalf("a second Repair: %+v, %v", rep2.Damage, err)
			}
			s = openStore(t, dir, hostileOpts)
			s.Close()
		})
	}
}

func hostileXor(t *testing.T, name string, off int64, mask byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= mask
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
