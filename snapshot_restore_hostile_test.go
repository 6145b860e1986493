package tiermem_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/tier/object"
)

// snapRevKeys are the keys the restore tests describe.
var snapRevKeys = []string{"pin-hot", "ttl-warm", "arr-cold", "glacier", "plain-hot", "ttl-pin-cold", "empty", "extra-1", "extra-2", "extra-glacier"}

// snapRevDescribe describes every key of snapRevKeys that m holds: value,
// pin, expiry, array dtype and shape, and (withTier) tier.
func snapRevDescribe(t *testing.T, m *tiermem.Manager, withTier bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range snapRevKeys {
		v, err := m.Retrieve(k)
		if errors.Is(err, tiermem.ErrNotFound) {
			continue
		}
		must(t, err)
		pinned, err := m.IsPinned(k)
		must(t, err)
		exp, err := m.ExpireTime(k)
		must(t, err)
		s := fmt.Sprintf("value %x pinned %v expires %d", v, pinned, exp.UnixNano())
		if exp.IsZero() {
			s = fmt.Sprintf("value %x pinned %v expires never", v, pinned)
		}
		if a, err := m.RetrieveArray(k); err == nil {
			s += fmt.Sprintf(" array %s %v", a.DType, a.Shape)
		} else if !errors.Is(err, tiermem.ErrType) {
			t.Fatalf("RetrieveArray(%s): %v", k, err)
		}
		if withTier {
			tr, err := m.Tier(k)
			must(t, err)
			s += " in " + tr.String()
		}
		out[k] = s
	}
	return out
}

func snapRevOptions(d tiermem.Durability) *tiermem.Options {
	return &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: d,
		Glacier: tiermem.GlacierOptions{Object: &object.Options{PackSize: 64 << 10, Compression: object.ZstdFastest}},
	}
}

// snapRevSource writes a snapshot of keys in every tier with every
// kind of state and returns its path and the description of the keys.
func snapRevSource(t *testing.T) (string, map[string]string) {
	t.Helper()
	m := open(t, snapRevOptions(tiermem.None))
	exp := time.Now().Add(time.Hour)
	must(t, m.Store("pin-hot", []byte("pinned in hot"), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	must(t, m.Store("ttl-warm", []byte("ttl in warm"), tiermem.InTier(tiermem.Warm)))
	must(t, m.ExpireAt("ttl-warm", exp))
	must(t, m.StoreArray("arr-cold", tiermem.Float64Array([]float64{1, 2, 3, 4, 5, 6}, 3, 2), tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("glacier", bytes.Repeat([]byte("g"), 3000), tiermem.InTier(tiermem.Glacier)))
	must(t, m.Store("plain-hot", []byte("plain"), tiermem.InTier(tiermem.Hot)))
	must(t, m.Store("ttl-pin-cold", []byte("both"), tiermem.InTier(tiermem.Cold), tiermem.Pinned()))
	must(t, m.ExpireAt("ttl-pin-cold", exp.Add(time.Minute)))
	must(t, m.Store("empty", []byte{}, tiermem.InTier(tiermem.Warm)))
	want := snapRevDescribe(t, m, true)
	if len(want) != 7 {
		t.Fatalf("source holds %d keys: %v", len(want), want)
	}
	path := filepath.Join(t.TempDir(), "src.tmsnap")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	return path, want
}

// snapRevFillTarget gives m other values and other states for the
// snapshot's keys, and keys the snapshot lacks, glacier included.
func snapRevFillTarget(t *testing.T, m *tiermem.Manager) {
	t.Helper()
	must(t, m.Store("pin-hot", []byte("newer, glacier, unpinned"), tiermem.InTier(tiermem.Glacier)))
	must(t, m.Store("ttl-warm", []byte("newer, pinned, no ttl"), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	must(t, m.Store("arr-cold", []byte("not an array"), tiermem.InTier(tiermem.Warm), tiermem.WithTTL(2*time.Hour)))
	must(t, m.StoreArray("glacier", tiermem.Int32Array([]int32{7, 8}, 2), tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("plain-hot", []byte("newer plain"), tiermem.InTier(tiermem.Cold), tiermem.WithTTL(3*time.Hour)))
	must(t, m.Copy("plain-hot", tiermem.Hot)) // two copies
	must(t, m.Store("extra-1", []byte("extra"), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	must(t, m.Store("extra-2", []byte("extra ttl"), tiermem.InTier(tiermem.Warm), tiermem.WithTTL(time.Hour)))
	must(t, m.Store("extra-glacier", []byte("extra g"), tiermem.InTier(tiermem.Glacier)))
}

func snapRevWithoutTiers(d map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		out[k], _, _ = strings.Cut(v, " in ")
	}
	return out
}

func snapRevDiff(got, want map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "\n  %s: got %q\n  %s  want %q", k, got[k], strings.Repeat(" ", len(k)), want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "\n  %s: got %q, want absent", k, got[k])
		}
	}
	return b.String()
}

// TestSnapshotHostileRestoreIntoNonEmptyThenReopen: Restore into a Manager that
// holds other values and other states of the same keys brings back, in
// replace mode, exactly the snapshot (value, tier, pin, absolute expiry,
// array) and, in merge mode, the snapshot's keys as they were plus the
// keys the snapshot lacks; Close and Open then find the same (README: "the
// next Open finds every key"), with no older value of the Manager's
// coming back from another tier.
func TestSnapshotHostileRestoreIntoNonEmptyThenReopen(t *testing.T) {
	path, src := snapRevSource(t)
	for _, mode := range []tiermem.RestoreMode{tiermem.RestoreReplace, tiermem.RestoreMerge} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			m, err := tiermem.Open(dir, snapRevOptions(tiermem.None))
			must(t, err)
			snapRevFillTarget(t, m)
			want := maps.Clone(src)
			if mode == tiermem.RestoreMerge {
				before := snapRevDescribe(t, m, true)
				for _, k := range []string{"extra-1", "extra-2", "extra-glacier"} {
					want[k] = before[k]
				}
			}
			r, err := m.Restore(path, &tiermem.RestoreOptions{Mode: mode})
			must(t, err)
			if r.Keys != 7 || r.DemotedKeys() != 0 || r.Expired != 0 {
				t.Errorf("report %+v; want 7 keys, none demoted or expired", r)
			}
			if d := snapRevDiff(snapRevDescribe(t, m, true), want); d != "" {
				t.Errorf("after Restore:%s", d)
			}
			must(t, m.Close())
			m, err = tiermem.Open(dir, snapRevOptions(tiermem.None))
			must(t, err)
			defer m.Close()
			if d := snapRevDiff(snapRevDescribe(t, m, false), snapRevWithoutTiers(want)); d != "" {
				t.Errorf("after Close and Open:%s", d)
			}
		})
	}
}

const snapRevCrashEnv = "TIERMEM_REVIEW_SNAP_CRASH"

// TestSnapshotHostileCrashChild is the child of
// TestSnapshotHostileRestoreSurvivesCrash: it opens the directory with
// Durability Always, fills it, restores the snapshot, says "restored"
// and waits to be killed.
func TestSnapshotHostileCrashChild(t *testing.T) {
	spec := os.Getenv(snapRevCrashEnv)
	if spec == "" {
		t.Skip("run by TestSnapshotHostileRestoreSurvivesCrash")
	}
	dir, path, _ := strings.Cut(spec, "|")
	mode, rest, _ := strings.Cut(path, "|")
	path = rest
	m, err := tiermem.Open(dir, snapRevOptions(tiermem.Always))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	snapRevFillTarget(t, m)
	md, _ := tiermem.ParseRestoreMode(mode)
	if _, err := m.Restore(path, &tiermem.RestoreOptions{Mode: md}); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("restored")
	os.Stdout.Sync()
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestSnapshotHostileRestoreSurvivesCrash: with Durability Always ("Store
// returns once the record is fsynced"), what a Restore returned having
// done is on disk: a SIGKILL right after it loses no restored key, brings
// back none of the keys a replace cleared, and no older value or state of
// a key the snapshot holds.
func TestSnapshotHostileRestoreSurvivesCrash(t *testing.T) {
	path, src := snapRevSource(t)
	for _, mode := range []tiermem.RestoreMode{tiermem.RestoreReplace, tiermem.RestoreMerge} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := childtest.Command("TestSnapshotHostileCrashChild", snapRevCrashEnv+"="+dir+"|"+mode.String()+"|"+path)
			stdout, err := cmd.StdoutPipe()
			must(t, err)
			must(t, cmd.Start())
			sc := bufio.NewScanner(stdout)
			got := ""
			for sc.Scan() {
				got = sc.Text()
				if got == "restored" || strings.HasPrefix(got, "error") {
					break
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if got != "restored" {
				t.Fatalf("child: %q", got)
			}
			m, err := tiermem.Open(dir, snapRevOptions(tiermem.Always))
			must(t, err)
			defer m.Close()
			want := snapRevWithoutTiers(src)
			if mode == tiermem.RestoreMerge {
				want["extra-1"] = fmt.Sprintf("value %x pinned true expires never", "extra")
				want["extra-glacier"] = fmt.Sprintf("value %x pinned false expires never", "extra g")
				got := snapRevDescribe(t, m, false)
				if strings.HasPrefix(got["extra-2"], fmt.Sprintf("value %x pinned false expires ", "extra ttl")) {
					want["extra-2"] = got["extra-2"]
				}
			}
			if d := snapRevDiff(snapRevDescribe(t, m, false), want); d != "" {
				t.Errorf("after a crash right after Restore:%s", d)
			}
		})
	}
}
