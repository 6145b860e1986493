package tiermem_test

import (
	"bytes"
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

// Redis's GETEX: the value is read and its TTL set in one step, and a
// large hot value is handed over where the tier holds it, not copied.
func ExampleManager_UpdateHeaderView() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := m.Store("page:/", []byte("<html>…</html>")); err != nil {
		panic(err)
	}
	var reply []byte
	err = m.UpdateHeaderView("page:/", func(e *tiermem.Entry) (bool, error) {
		e.Expires = time.Now().Add(time.Minute)
		return e.Found, nil
	}, func(value []byte, shared bool) error {
		if !shared {
			value = bytes.Clone(value) // valid only until view returns
		}
		reply = value
		return nil
	})
	if err != nil {
		panic(err)
	}
	at, _ := m.ExpireTime("page:/")
	fmt.Println(string(reply), time.Until(at) > 59*time.Second)
	// Output: <html>…</html> true
}
