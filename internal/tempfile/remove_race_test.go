package tempfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveRacingCreateNamedKeepsItsRecord: a CreateNamed of a name that a
// Remove of the same name is removing could come between Remove's unlink
// and its Forget, and then lose its record: a signal would leave that file
// behind. Remove now holds the lock across both. The test retries the
// create while the removal runs and checks, each round, that a file left on
// disk is recorded.
func TestRemoveRacingCreateNamedKeepsItsRecord(t *testing.T) {
	name := filepath.Join(t.TempDir(), "run")
	for round := range 2000 {
		f, err := CreateNamed(name, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			Remove(name)
		}()
		for {
			f, err := CreateNamed(name, 0o600)
			if err == nil {
				f.Close()
				break
			}
			if !errors.Is(err, fs.ErrExist) {
				t.Fatal(err)
			}
		}
		<-done
		_, err = os.Stat(name)
		mu.Lock()
		_, recorded := names[name]
		mu.Unlock()
		if err == nil && !recorded {
			t.Fatalf("round %d: %s is on disk but not recorded", round, name)
		}
		if err := Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
}
