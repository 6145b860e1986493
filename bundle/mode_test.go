//go:build unix

package bundle_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// TestBundleMode checks that a bundle is created as os.Create creates files,
// here with mode 0644 less the umask: readable by the other processes it is
// made to be shared with, and no more open than the umask allows.
func TestBundleMode(t *testing.T) {
	for _, tt := range []struct{ umask, want os.FileMode }{{0o022, 0o644}, {0o077, 0o600}, {0o000, 0o644}} {
		t.Run(fmt.Sprintf("%03o", tt.umask), func(t *testing.T) {
			defer syscall.Umask(syscall.Umask(int(tt.umask)))
			st, err := os.Stat(build(t, nil, []rec{{key: "k", value: "v"}}))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.want {
				t.Fatalf("mode %v, want %v", st.Mode().Perm(), tt.want)
			}
		})
	}
}
