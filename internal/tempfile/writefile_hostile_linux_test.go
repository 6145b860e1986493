package tempfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// openFiles returns the number of file descriptors the process holds.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// TestHostileWriteFilePanicLeaksDescriptor: a write callback that panics
// (a server recovers panics per request, and the snapshot and bundle writers
// call encoders that may panic on a bad value) left WriteFile's temporary
// file open: the deferred Remove unlinked its name, but nothing closed it,
// so each such panic leaked a descriptor and, while the process lived, the
// disk space of what was written.
func TestHostileWriteFilePanicLeaksDescriptor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	before := openFiles(t)
	for range 10 {
		func() {
			defer func() { _ = recover() }()
			_ = tempfile.WriteFile(path, func(f *os.File) error {
				if _, err := f.Write(make([]byte, 4096)); err != nil {
					return err
				}
				panic("encoder bug")
			})
		}()
	}
	if after := openFiles(t); after != before {
		t.Errorf("10 WriteFile calls whose write panicked left %d descriptors open", after-before)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Stat(path) = %v, want not exist", err)
	}
}

// TestHostileWriteFileLongName: WriteFile could not write a file whose name
// is legal but longer than 243 bytes: its temporary file was named "." +
// the name + "." + up to 10 random digits, which passes the 255-byte limit
// of a name on Linux file systems, where os.WriteFile succeeds. The
// temporary file's name now holds at most 200 bytes of the target's.
func TestHostileWriteFileLongName(t *testing.T) {
	name := make([]byte, 250)
	for i := range name {
		name[i] = 'n'
	}
	path := filepath.Join(t.TempDir(), string(name))
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Skipf("this file system refuses a 250-byte name: %v", err)
	}
	err := tempfile.WriteFile(path, func(f *os.File) error {
		_, err := f.WriteString("new")
		return err
	})
	if err != nil {
		t.Fatalf("WriteFile of a 250-byte name: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("the file holds %q, want \"new\"", b)
	}
}
