package tempfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveAllRemovesWhatIsStillRecorded: RemoveAll removes the files made
// and not yet removed or forgotten (renamed away), and nothing else.
func TestRemoveAllRemovesWhatIsStillRecorded(t *testing.T) {
	dir := t.TempDir()
	var made []string
	for range 4 {
		f, err := Create(dir, "run-*")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		made = append(made, f.Name())
	}
	if err := Remove(made[0]); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(dir, "output")
	if err := os.Rename(made[1], kept); err != nil {
		t.Fatal(err)
	}
	Forget(made[1])
	if n := RemoveAll(); n != 2 {
		t.Errorf("RemoveAll removed %d files, want the 2 still recorded", n)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "output" {
		t.Errorf("left in the directory: %v, want only the renamed output", left)
	}
	if n := RemoveAll(); n != 0 {
		t.Errorf("a second RemoveAll removed %d files", n)
	}
	if f, err := Create(dir, "late-*"); err == nil {
		f.Close()
		t.Errorf("Create after RemoveAll made %s", f.Name())
	}
}
