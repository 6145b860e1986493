package tiermem_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tiermem/tiermem"
)

// exampleDir returns a new empty directory for an example's cold tier; the
// example removes it.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "tiermem-example-")
	if err != nil {
		panic(err)
	}
	return dir
}

// exampleOptions are small budgets, so that the examples run anywhere.
func exampleOptions() *tiermem.Options {
	return &tiermem.Options{
		Hot:  tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 256 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 30},
	}
}

func Example() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()

	data := make([]float64, 1000*1000)
	if err := m.StoreArray("random_matrix_1", tiermem.Float64Array(data, 1000, 1000), tiermem.InTier(tiermem.Hot)); err != nil {
		panic(err)
	}
	a, err := m.RetrieveArray("random_matrix_1")
	if err != nil {
		panic(err)
	}
	t, _ := m.Tier("random_matrix_1")
	fmt.Println(a.Shape, t)
	fmt.Printf("hot %.2f%%\n", m.Usage()[tiermem.Hot].Percent)
	// Output:
	// [1000 1000] hot
	// hot 11.93%
}

func ExampleOpen() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	m.Store("greeting", []byte("hello"))
	m.Close() // hot and warm values are written to the cold tier

	m, _ = tiermem.Open(dir, exampleOptions()) // and found again
	defer m.Close()
	v, _ := m.Retrieve("greeting")
	fmt.Println(string(v))
	// Output: hello
}

func ExampleManager_Store() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("session", []byte("token"), tiermem.InTier(tiermem.Warm), tiermem.WithTTL(time.Hour))
	m.Store("model", []byte("weights"), tiermem.InTier(tiermem.Hot), tiermem.Pinned())
	for _, key := range []string{"session", "model"} {
		t, _ := m.Tier(key)
		fmt.Println(key, t)
	}
	// Output:
	// session warm
	// model hot
}

func ExampleManager_Retrieve() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("v"), tiermem.InTier(tiermem.Cold))
	v, err := m.Retrieve("k") // a copy, verified against its checksum
	fmt.Println(string(v), err)
	_, err = m.Retrieve("missing")
	fmt.Println(errors.Is(err, tiermem.ErrNotFound))
	// Output:
	// v <nil>
	// true
}

func ExampleManager_View() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("in place"), tiermem.InTier(tiermem.Warm))
	m.View("k", func(v []byte) error { // no copy: v is the off-heap memory
		fmt.Println(len(v), string(v[:2]))
		return nil
	})
	// Output: 8 in
}

func ExampleManager_Move() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("v"), tiermem.InTier(tiermem.Hot))
	m.Move("k", tiermem.Cold)
	t, _ := m.Tier("k")
	fmt.Println(t, m.Usage()[tiermem.Hot].Items)
	// Output: cold 0
}

func ExampleManager_Copy() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("v"), tiermem.InTier(tiermem.Hot))
	m.Copy("k", tiermem.Cold) // the hot copy stays
	t, _ := m.Tier("k")
	u := m.Usage()
	fmt.Println(t, u[tiermem.Hot].Items, u[tiermem.Cold].Items)
	// Output: hot 1 1
}

func ExampleManager_SaveTo() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.StoreArray("weights", tiermem.Float32Array([]float32{1, 2, 3, 4}, 2, 2))
	path := filepath.Join(dir, "weights.npy")
	if err := m.SaveTo("weights", path); err != nil { // numpy.load reads it
		panic(err)
	}
	data, _ := os.ReadFile(path)
	fmt.Printf("%q %d bytes\n", data[1:6], len(data))
	// Output: "NUMPY" 144 bytes
}

func ExampleManager_Delete() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("v"))
	fmt.Println(m.Delete("k"), errors.Is(m.Delete("k"), tiermem.ErrNotFound))
	// Output: <nil> true
}

func ExampleManager_Clear() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("a", []byte("1"), tiermem.InTier(tiermem.Hot))
	m.Store("b", []byte("2"), tiermem.InTier(tiermem.Cold))
	m.Clear()
	u := m.Usage()
	fmt.Println(u[tiermem.Hot].Items + u[tiermem.Cold].Items)
	// Output: 0
}

func ExampleManager_Migrate() {
	o := exampleOptions()
	o.MigrateInterval = -1 // no background loop: migrate by hand
	o.HighWatermark, o.LowWatermark = 0.5, 0.25
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, o)
	defer m.Close()
	for i := range 4 {
		m.Store(fmt.Sprint("k", i), make([]byte, 12<<20), tiermem.InTier(tiermem.Hot))
	}
	fmt.Printf("before: hot %.0f%%\n", m.Usage()[tiermem.Hot].Percent)
	m.Migrate() // hot was above its high watermark: down to its low one
	u := m.Usage()
	fmt.Printf("after: hot %.0f%%, warm holds %d\n", u[tiermem.Hot].Percent, u[tiermem.Warm].Items)
	// Output:
	// before: hot 75%
	// after: hot 19%, warm holds 3
}

func ExampleManager_Usage() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", make([]byte, 1<<20), tiermem.InTier(tiermem.Warm))
	u := m.Usage()[tiermem.Warm]
	fmt.Printf("%d item, %.2f%% of %d MiB\n", u.Items, u.Percent, u.Capacity>>20)
	// Output: 1 item, 0.39% of 256 MiB
}

func ExampleManager_ViewArray() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.StoreArray("v", tiermem.Float64Array([]float64{1, 2, 3}), tiermem.InTier(tiermem.Warm))
	m.ViewArray("v", func(a tiermem.Array) error {
		xs, _ := a.Float64s() // a typed view of the tier's memory
		fmt.Println(a, xs)
		return nil
	})
	// Output: float64[3] [1 2 3]
}

func ExamplePut() {
	type Point struct{ X, Y int }
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	tiermem.Put(m, "p", Point{3, 4}, tiermem.InTier(tiermem.Cold)) // gob: any Go type
	p, err := tiermem.Get[Point](m, "p")
	fmt.Println(p, err)
	// Output: {3 4} <nil>
}

func ExampleParseTier() {
	t, err := tiermem.ParseTier("Warm")
	fmt.Println(t, err)
	_, err = tiermem.ParseTier("lukewarm")
	fmt.Println(errors.Is(err, tiermem.ErrUnknownTier))
	// Output:
	// warm <nil>
	// true
}

func ExampleManager_RetrieveAppend() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("a", []byte("alpha"), tiermem.InTier(tiermem.Cold))
	m.Store("b", []byte("beta"))
	buf := make([]byte, 0, 64)
	for _, k := range []string{"a", "b"} {
		buf, _ = m.RetrieveAppend(buf[:0], k) // copied once into buf: no allocation
		fmt.Println(string(buf))
	}
	// Output:
	// alpha
	// beta
}

func ExampleManager_StoreArray() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	grid := tiermem.Int32Array([]int32{1, 2, 3, 4, 5, 6}, 2, 3)
	m.StoreArray("grid", grid, tiermem.InTier(tiermem.Cold)) // dtype and shape go along
	a, err := m.RetrieveArray("grid")
	xs, _ := a.Int32s()
	fmt.Println(a, xs, err)
	// Output: int32[2 3] [1 2 3 4 5 6] <nil>
}

func ExampleManager_RetrieveArrayInto() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.StoreArray("frame0", tiermem.Float64Array([]float64{0, 0.5}), tiermem.InTier(tiermem.Warm))
	m.StoreArray("frame1", tiermem.Float64Array([]float64{1, 1.5}), tiermem.InTier(tiermem.Warm))
	var buf []byte
	for _, k := range []string{"frame0", "frame1"} {
		a, err := m.RetrieveArrayInto(buf, k)
		if err != nil {
			panic(err)
		}
		xs, _ := a.Float64s()
		fmt.Println(k, xs)
		buf = a.Data // the next frame reuses this memory
	}
	// Output:
	// frame0 [0 0.5]
	// frame1 [1 1.5]
}

func ExampleManager_Tier() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("v"), tiermem.InTier(tiermem.Warm))
	t, err := m.Tier("k")
	fmt.Println(t, err)
	// Output: warm <nil>
}

func ExampleManager_Stats() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("k", []byte("v"), tiermem.InTier(tiermem.Hot))
	m.Move("k", tiermem.Cold)
	s := m.Stats()
	fmt.Println("demotions out of hot:", s.Tiers[tiermem.Hot].Demotions)
	// Output: demotions out of hot: 1
}

func ExampleWithTTL() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("session", []byte("token"), tiermem.WithTTL(time.Second))
	_, err := m.Retrieve("session")
	fmt.Println(err)
	time.Sleep(1100 * time.Millisecond)
	_, err = m.Retrieve("session")
	fmt.Println(errors.Is(err, tiermem.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExamplePinned() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	m.Store("model", []byte("weights"), tiermem.InTier(tiermem.Hot), tiermem.Pinned())
	m.Migrate() // never demotes a pinned value
	t, _ := m.Tier("model")
	fmt.Println(t)
	// Output: hot
}

func ExamplePutWith() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	c := tiermem.GobCodec[map[string]int]{}
	tiermem.PutWith(m, "counts", map[string]int{"a": 1}, c, tiermem.InTier(tiermem.Cold))
	v, err := tiermem.GetWith(m, "counts", c)
	fmt.Println(v, err)
	// Output: map[a:1] <nil>
}

// ExampleNewArray stores an array of a type defined on float32 and reads it
// back as that type: NewArray and Elements serve every dtype.
func ExampleNewArray() {
	type celsius float32
	dir, err := os.MkdirTemp("", "tiermem-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	readings := []celsius{21.5, 22, 19.25, 18, 20.5, 23}
	if err := m.StoreArray("readings", tiermem.NewArray(readings, 2, 3)); err != nil {
		panic(err)
	}
	a, err := m.RetrieveArray("readings")
	if err != nil {
		panic(err)
	}
	back, err := tiermem.Elements[celsius](a)
	fmt.Println(a, back, err)
	// Output: float32[2 3] [21.5 22 19.25 18 20.5 23] <nil>
}

func ExampleManager_RetrieveAppendBytes() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, _ := tiermem.Open(dir, exampleOptions())
	defer m.Close()
	key := []byte("user:1") // as read off the network, into a buffer that is reused
	m.StoreBytes(key, []byte("alpha"))
	copy(key, "user:2") // the Manager kept no reference to the bytes
	m.StoreBytes(key, []byte("beta"))
	buf := make([]byte, 0, 64)
	for _, k := range []string{"user:1", "user:2"} {
		copy(key, k)
		buf, _ = m.RetrieveAppendBytes(buf[:0], key) // no allocation on a hit
		fmt.Println(string(buf))
	}
	m.DeleteBytes(key)
	fmt.Println(m.ViewBytes(key, func([]byte) error { return nil }) != nil)
	// Output:
	// alpha
	// beta
	// true
}
