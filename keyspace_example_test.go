package tiermem_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/tiermem/tiermem"
)

func ExampleManager_Scan() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	for _, k := range []string{"user:1", "user:2", "order:7"} {
		m.Store(k, []byte("v"))
	}
	var users []string
	var cursor uint64
	for {
		keys, next, err := m.Scan(cursor, "user:*", 10)
		if err != nil {
			panic(err)
		}
		users = append(users, keys...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(users) // Scan returns keys in hash order
	n, _ := m.Len()
	fmt.Println(users, n)
	// Output: [user:1 user:2] 3
}

func ExampleManager_Update() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	incr := func(old []byte, found bool) ([]byte, bool, error) {
		n, _ := strconv.Atoi(string(old)) // 0 when absent
		return strconv.AppendInt(nil, int64(n+1), 10), true, nil
	}
	for range 3 {
		if err := m.Update("visits", incr); err != nil {
			panic(err)
		}
	}
	v, _ := m.Retrieve("visits")
	fmt.Println(string(v))
	// Output: 3
}

func ExampleManager_Expire() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("session", []byte("token"))
	m.Expire("session", time.Hour)
	at, _ := m.ExpireTime("session")
	fmt.Println(time.Until(at).Round(time.Hour))
	had, _ := m.Persist("session")
	at, _ = m.ExpireTime("session")
	fmt.Println(had, at.IsZero())
	// Output:
	// 1h0m0s
	// true true
}

func ExampleManager_Pin() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("model", []byte("weights"), tiermem.InTier(tiermem.Hot))
	m.Pin("model") // no migration pass demotes it now
	pinned, _ := m.IsPinned("model")
	fmt.Println(pinned)
	// Output: true
}
