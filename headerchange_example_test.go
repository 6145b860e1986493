package tiermem_test

import (
	"fmt"
	"os"
	"time"

	"github.com/tiermem/tiermem"
)

// A session's TTL is pushed out, never pulled in (Redis's EXPIRE ... GT),
// without copying its value.
func ExampleManager_UpdateHeader() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := m.Store("session:42", make([]byte, 1<<20), tiermem.WithTTL(time.Minute)); err != nil {
		panic(err)
	}
	extend := func(d time.Duration) error {
		return m.UpdateHeader("session:42", func(e *tiermem.Entry) (bool, error) {
			if at := time.Now().Add(d); e.Found && at.After(e.Expires) {
				e.Expires = at
			}
			return e.Found, nil
		})
	}
	if err := extend(time.Hour); err != nil {
		panic(err)
	}
	if err := extend(time.Second); err != nil { // shorter: left as it is
		panic(err)
	}
	at, _ := m.ExpireTime("session:42")
	fmt.Println(time.Until(at) > 59*time.Minute)
	// Output: true
}
