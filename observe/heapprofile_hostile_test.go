package observe

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goRunModule builds and runs, in a module named module that uses this
// repository, a main.go with a package cache holding Put (which appends
// n bytes to a package-level slice), and returns its output.
func goRunModule(t *testing.T, module, main string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": fmt.Sprintf("module %s\n\ngo 1.26.0\n\nrequire github.com/tiermem/tiermem v0.0.0\n\nreplace github.com/tiermem/tiermem => %s\n", module, repo),
		"go.sum": string(sum),
		"cache/cache.go": `package cache

var held [][]byte

//go:noinline
func Put(n int) { held = append(held, make([]byte, n)) }
`,
		"main.go": strings.ReplaceAll(main, "MODULE", module),
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(gobin, "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	return string(out)
}

// The Go tutorial's module is "example/hello"; "go mod init myapp" is as
// common. A dotless first element does not make a path the standard
// library's: in such a module, hot spots (and leak sites) name
// example/hello/cache.Put, not the first caller outside it (main.main).
func TestHostileSiteInAModuleWithoutADot(t *testing.T) {
	out := goRunModule(t, "example/hello", `package main

import (
	"fmt"
	"runtime"

	"MODULE/cache"
	"github.com/tiermem/tiermem/observe"
)

func main() {
	runtime.MemProfileRate = 1
	o, err := observe.Start(&observe.Options{Interval: 1 << 40, Profiles: 4})
	if err != nil {
		panic(err)
	}
	for range 4 {
		for range 64 {
			cache.Put(64 << 10)
		}
		runtime.GC()
		runtime.GC()
		o.Sample()
	}
	r, _ := o.Stop()
	fmt.Println(r.HotSpots.ByBytes[0].Site.Function)
}
`)
	if got, want := strings.TrimSpace(out), "example/hello/cache.Put"; got != want {
		t.Errorf("top allocation hot spot of a module named example/hello: %q, want %q", got, want)
	}
}

// Stop "takes a last sample and profiles". When no GC cycle has ended
// since the previous profile (a program that calls Sample at the end of a
// phase, as Sample's doc asks, then Stop), the runtime hands back the same
// heap profile, and a copy would flatten the end of every trend: the leak
// that Snapshot reported a moment before would be gone from Stop's report
// (its later half "levelled off"). A profile taken with no GC cycle since
// the last one carries nothing new and is not kept.
func TestHostileStopKeepsTheLeakSnapshotShowed(t *testing.T) {
	out := goRunModule(t, "example.com/hello", `package main

import (
	"fmt"
	"runtime"
	"time"

	"MODULE/cache"
	"github.com/tiermem/tiermem/observe"
)

func main() {
	runtime.MemProfileRate = 1
	o, err := observe.Start(&observe.Options{Interval: 1 << 40, Profiles: 4})
	if err != nil {
		panic(err)
	}
	for range 6 {
		for range 64 {
			cache.Put(64 << 10) // 4 MiB more each phase, all kept
		}
		runtime.GC()
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		o.Sample()
	}
	for _, s := range o.Snapshot().Leaks {
		fmt.Println("snapshot", s.Kind, s.Site.Function)
	}
	r, _ := o.Stop()
	for _, s := range r.Leaks {
		fmt.Println("stop", s.Kind, s.Site.Function)
	}
}
`)
	const leak = "heap MODULE/cache.Put"
	want := strings.ReplaceAll(leak, "MODULE", "example.com/hello")
	if !strings.Contains(out, "snapshot "+want) {
		t.Fatalf("Snapshot did not report the leak at cache.Put either; output:\n%s", out)
	}
	if !strings.Contains(out, "stop "+want) {
		t.Errorf("Snapshot reported the leak at cache.Put, Stop's final report did not; output:\n%s", out)
	}
}

// A site's package is its import path up to the function, whatever the type
// arguments hold; a module holds its own path and what is below it, not a
// path that only starts with the same letters.
func TestHostilePackageOfAndModules(t *testing.T) {
	for f, want := range map[string]string{
		"example/hello/cache.Put":                       "example/hello/cache",
		"example/hello/cache.(*T[...]).Put":             "example/hello/cache",
		"myapp.(*T[go.shape.*example/x.Y]).M":           "myapp",
		"main.main.func1":                               "main",
		"vendor/golang.org/x/net/http2/hpack.(*D).Emit": "vendor/golang.org/x/net/http2/hpack",
	} {
		if got := packageOf(f); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", f, got, want)
		}
	}
	mods := []string{"example/hello", "myapp"}
	for path, want := range map[string]bool{
		"example/hello":       true,
		"example/hello/cache": true,
		"example/hellothere":  false,
		"myapp":               true,
		"myapp2":              false,
		"encoding/json":       false,
	} {
		if got := inModule(path, mods); got != want {
			t.Errorf("inModule(%q) = %v, want %v", path, got, want)
		}
	}
	if !isStd("encoding/json.Marshal") || isStd(packageOf(ownPackage)+".F") || isStd("command-line-arguments.F") {
		t.Error("isStd is wrong about encoding/json, this package or command-line-arguments")
	}
}
