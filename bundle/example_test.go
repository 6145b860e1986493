package bundle_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tiermem/tiermem/bundle"
)

// exampleDir returns a fresh directory for an example's files.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "bundle-example-")
	if err != nil {
		panic(err)
	}
	return dir
}

// openColors builds the colors bundle with opts and opens it; done closes it
// and removes its directory.
func openColors(opts *bundle.Options) (b *bundle.Bundle, done func()) {
	path, remove := colorsFile(opts)
	b, err := bundle.Open(path)
	if err != nil {
		panic(err)
	}
	return b, func() { b.Close(); remove() }
}

// colorsFile builds the colors bundle with opts; remove deletes it.
func colorsFile(opts *bundle.Options) (path string, remove func()) {
	dir := exampleDir()
	path = filepath.Join(dir, "colors.bundle")
	if _, err := bundle.Build(path, colors, opts); err != nil {
		panic(err)
	}
	return path, func() { os.RemoveAll(dir) }
}

// colors yields a few keys and values.
func colors(yield func([]byte, []byte) bool) {
	for _, kv := range [][2]string{{"red", "#ff0000"}, {"green", "#00ff00"}, {"blue", "#0000ff"}} {
		if !yield([]byte(kv[0]), []byte(kv[1])) {
			return
		}
	}
}

func Example() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "colors.bundle")

	if _, err := bundle.Build(path, colors, nil); err != nil {
		panic(err)
	}
	b, err := bundle.Open(path) // every process that opens it shares its pages
	if err != nil {
		panic(err)
	}
	defer b.Close()
	v, err := b.Get([]byte("green")) // a slice of the mapping: no copy
	fmt.Println(string(v), err)
	// Output: #00ff00 <nil>
}

func ExampleBuild() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	info, err := bundle.Build(filepath.Join(dir, "colors.bundle"), colors, &bundle.Options{Index: bundle.Approximate})
	fmt.Println(info.Index, info.Keys, info.Records, err)
	// Output: approximate 3 3 <nil>
}

func ExampleBuildRecords() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	src, dst := filepath.Join(dir, "src.bundle"), filepath.Join(dir, "copy.bundle")
	bundle.Build(src, colors, nil)
	b, _ := bundle.Open(src)
	defer b.Close()

	info, err := bundle.BuildRecords(dst, b.All(), &bundle.Options{Align: 1}) // a copy, repacked
	fmt.Println(info.Keys, info.Align, err)
	// Output: 3 1 <nil>
}

func ExampleNewBuilder() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	b, err := bundle.NewBuilder(filepath.Join(dir, "users.bundle"), &bundle.Options{
		MemoryLimit: 64 << 20, // sort runs spill to disk beyond this
		Progress:    func(p bundle.Progress) {},
	})
	if err != nil {
		panic(err)
	}
	profile := strings.Repeat("default profile ", 4)
	for i := range 1000 {
		b.Add(fmt.Appendf(nil, "user:%d", i), []byte(profile)) // any order, any number
	}
	b.AddRecord(bundle.Record{Key: []byte("user:admin"), Value: []byte(profile), Meta: []byte{1}})
	info, err := b.Finish()
	fmt.Println(info.Keys, info.Deduped, info.StoredBytes, err)
	// Output: 1001 1000 64 <nil>
}

func ExampleBuilder_AddStream() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	b, _ := bundle.NewBuilder(filepath.Join(dir, "blobs.bundle"), nil)
	blob := strings.NewReader("a value read from a file, a socket, another tier...")
	if err := b.AddStream([]byte("blob"), nil, blob, blob.Size()); err != nil {
		panic(err)
	}
	info, err := b.Finish()
	fmt.Println(info.ValueBytes, err)
	// Output: 51 <nil>
}

func ExampleBuilder_Abort() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "never.bundle")
	b, _ := bundle.NewBuilder(path, nil)
	b.Add([]byte("k"), []byte("v"))
	b.Abort() // nothing is left behind
	_, err := os.Stat(path)
	fmt.Println(os.IsNotExist(err))
	// Output: true
}

func ExampleOpen() {
	path, remove := colorsFile(nil)
	defer remove()

	b, err := bundle.Open(path)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	fmt.Println(b.Len(), b.Index())
	// Output: 3 exact
}

func ExampleBundle_Get() {
	b, done := openColors(nil)
	defer done()

	v, err := b.Get([]byte("blue"))
	fmt.Println(string(v), err)
	_, err = b.Get([]byte("purple"))
	fmt.Println(err)
	// Output:
	// #0000ff <nil>
	// bundle: key not found
}

func ExampleBundle_GetRecord() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiers.bundle")
	b, _ := bundle.NewBuilder(path, nil)
	b.AddRecord(bundle.Record{Key: []byte("matrix"), Value: []byte("...bytes..."), Meta: []byte("tier=warm")})
	b.Finish()
	bd, _ := bundle.Open(path)
	defer bd.Close()

	r, err := bd.GetRecord([]byte("matrix"))
	fmt.Printf("%s %s %v\n", r.Value, r.Meta, err)
	// Output: ...bytes... tier=warm <nil>
}

func ExampleBundle_Values() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tags.bundle")
	b, _ := bundle.NewBuilder(path, &bundle.Options{Index: bundle.Multi})
	b.Add([]byte("go"), []byte("fast"))
	b.Add([]byte("python"), []byte("friendly"))
	b.Add([]byte("go"), []byte("simple"))
	b.Finish()
	bd, _ := bundle.Open(path)
	defer bd.Close()

	for v, err := range bd.Values([]byte("go")) {
		fmt.Println(string(v), err)
	}
	// Output:
	// fast <nil>
	// simple <nil>
}

func ExampleBundle_All() {
	b, done := openColors(nil)
	defer done()

	n := 0
	for r, err := range b.All() { // in key-hash order
		if err != nil {
			panic(err)
		}
		n += len(r.Key)
	}
	fmt.Println(n)
	// Output: 12
}

func ExampleBundle_Verify() {
	path, remove := colorsFile(nil)
	defer remove()

	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 1 // flip a bit of the guide
	os.WriteFile(path, data, 0o644)

	b, _ := bundle.Open(path) // Open reads only the header
	defer b.Close()
	fmt.Println(b.Verify())
	// Output: bundle: corrupt: section guide: checksum mismatch
}

func ExampleBundle_Info() {
	b, done := openColors(&bundle.Options{Align: 1})
	defer done()

	info := b.Info()
	fmt.Println(info.Keys, info.KeyBytes, info.ValueBytes, info.FileSize)
	fmt.Println("direct entries:", info.Direct, "of", info.Records)
	for _, s := range info.Sections {
		fmt.Println(s.Name, s.Offset, s.Size)
	}
	// Output:
	// 3 12 21 496
	// direct entries: 3 of 3
	// data 256 21
	// index 384 96
	// guide 480 16
}

func ExampleBundle_LoadIndex() {
	b, done := openColors(nil)
	defer done()

	fmt.Println(b.LoadIndex()) // the index in RAM: a lookup waits at most once for the disk
	fmt.Println(b.Load())      // the whole file in RAM
	// Output:
	// <nil>
	// <nil>
}

func ExampleParseIndexKind() {
	k, err := bundle.ParseIndexKind("approx")
	fmt.Println(k, err)
	_, err = bundle.ParseIndexKind("btree")
	fmt.Println(err)
	// Output:
	// approximate <nil>
	// bundle: invalid options: index kind "btree" (want exact, approximate or multi)
}

func ExampleOpenLayered() {
	path, remove := colorsFile(nil)
	defer remove()

	l, err := bundle.OpenLayered(path, nil)
	if err != nil {
		panic(err)
	}
	defer l.Close()
	l.Set([]byte("red"), []byte("#e00000")) // the delta shadows the bundle
	l.Delete([]byte("blue"))
	for _, k := range []string{"red", "green", "blue"} {
		v, err := l.Get(nil, []byte(k)) // a copy
		fmt.Printf("%s %s %v\n", k, v, err)
	}
	// Output:
	// red #e00000 <nil>
	// green #00ff00 <nil>
	// blue  bundle: key not found
}

func ExampleLayered_Merge() {
	path, remove := colorsFile(nil)
	defer remove()
	l, _ := bundle.OpenLayered(path, nil)
	defer l.Close()

	l.Set([]byte("black"), []byte("#000000"))
	info, err := l.Merge() // a new bundle with the delta folded in, swapped in atomically
	fmt.Println(info.Keys, l.DeltaLen(), err)
	// Output: 4 0 <nil>
}

func ExampleLayered_View() {
	path, remove := colorsFile(nil)
	defer remove()
	l, _ := bundle.OpenLayered(path, nil)
	defer l.Close()

	v, _ := l.View()
	red, _ := v.Get([]byte("red")) // no copy: valid until Release, across Merges
	l.Set([]byte("red"), []byte("#e00000"))
	l.Merge()
	fmt.Println(string(red))
	now, _ := v.Get([]byte("red"))
	fmt.Println(string(now))
	v.Release()
	// Output:
	// #ff0000
	// #e00000
}

func ExampleView_All() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	l, _ := bundle.OpenLayered(filepath.Join(dir, "new.bundle"), nil) // no file yet: empty
	defer l.Close()
	l.Set([]byte("only"), []byte("in the delta"))

	v, _ := l.View()
	defer v.Release()
	for r, err := range v.All() {
		fmt.Printf("%s=%s %v\n", r.Key, r.Value, err)
	}
	// Output: only=in the delta <nil>
}
