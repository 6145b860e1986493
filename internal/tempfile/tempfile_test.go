package tempfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveAllRemovesWhatIsStillRecorded: RemoveAll removes the files
// and directories (with what they hold) made and not yet removed or
// forgotten (renamed away), and nothing else.
func TestRemoveAllRemovesWhatIsStillRecorded(t *testing.T) {
	t.Cleanup(func() { // the other tests of the binary make files after this one
		mu.Lock()
		removed = false
		mu.Unlock()
	})
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
	sub, err := MkdirTemp(dir, "demo-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "segment"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	gone, err := MkdirTemp(dir, "done-*")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(gone, "f"), nil, 0o600)
	if err := Remove(gone); err != nil {
		t.Fatalf("Remove of a directory made by MkdirTemp: %v", err)
	}
	if n := RemoveAll(); n != 3 {
		t.Errorf("RemoveAll removed %d files and directories, want the 3 still recorded", n)
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
