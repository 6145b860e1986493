package bundlebench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

// The multi-process benchmarks run this test binary again as child
// processes: BUNDLE_CHILD names what the child does, BUNDLE_PATH its bundle.
// A reader child prints "ready" once its data is resident, then waits for its
// standard input to close, so that the parent can read its memory meanwhile.
const (
	childEnv = "BUNDLE_CHILD"
	pathEnv  = "BUNDLE_PATH"
	keysEnv  = "BUNDLE_KEYS"
)

// runChild runs the child's work if this process is a child, and reports
// whether it was.
func runChild() bool {
	mode := os.Getenv(childEnv)
	if mode == "" {
		return false
	}
	var err error
	switch mode {
	case "mapped":
		err = readMapped(os.Getenv(pathEnv))
	case "copied":
		err = readCopied(os.Getenv(pathEnv))
	case "build", "write":
		err = buildChild(mode, os.Getenv(pathEnv))
	default:
		err = fmt.Errorf("unknown child %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return true
}

// readMapped opens the bundle and reads every record, so that all its pages
// are resident, shared with every other process mapping it.
func readMapped(path string) error {
	b, err := bundle.Open(path)
	if err != nil {
		return err
	}
	defer b.Close()
	var sum byte
	for r, err := range b.All() {
		if err != nil {
			return err
		}
		sum += r.Value[0] + r.Key[0]
	}
	return readyAndWait(sum)
}

// readCopied reads every record into a Go map: the usual private copy per
// process, the baseline.
func readCopied(path string) error {
	b, err := bundle.Open(path)
	if err != nil {
		return err
	}
	m := make(map[string][]byte, b.Len())
	for r, err := range b.All() {
		if err != nil {
			return err
		}
		m[string(r.Key)] = append([]byte(nil), r.Value...)
	}
	b.Close()
	return readyAndWait(byte(len(m)))
}

func readyAndWait(sink byte) error {
	fmt.Printf("ready %d\n", sink)
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}

// child is a running child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startReaders starts n children of the given mode on path and waits until
// each has its data resident.
func startReaders(b *testing.B, n int, mode, path string) []child {
	var kids []child
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+mode, pathEnv+"="+path)
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		kids = append(kids, child{cmd, stdin})
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			b.Fatalf("child %s: %v", mode, err)
		}
	}
	return kids
}

func stop(kids []child) {
	for _, k := range kids {
		k.stdin.Close()
		k.cmd.Wait()
	}
}

// BenchmarkSharedReaders runs four processes that each read every record of
// the same bundle and reports their total resident memory: RSS counts a
// shared page in every process that maps it, PSS divides it among them, so
// the total PSS is the RAM really used. The baseline is four processes that
// each load the records into a Go map.
func BenchmarkSharedReaders(b *testing.B) {
	const procs = 4
	s := openStores(b)
	path := s.bundle.Path()
	for _, mode := range []string{"mapped", "copied"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				kids := startReaders(b, procs, mode, path)
				rss, pss := sumMemory(b, kids)
				stop(kids)
				b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
				b.ReportMetric(float64(pss)/(1<<20), "pss-MiB")
				b.ReportMetric(float64(pss)/float64(s.sizes["bundle"]), "pss/file")
			}
			b.ReportMetric(float64(s.sizes["bundle"])/(1<<20), "file-MiB")
		})
	}
}

// sumMemory adds up the RSS and PSS of the children.
func sumMemory(b *testing.B, kids []child) (rss, pss int64) {
	for _, k := range kids {
		pid := strconv.Itoa(k.cmd.Process.Pid)
		r, err := procField(pid, "smaps_rollup", "Rss")
		if err != nil {
			b.Fatal(err)
		}
		p, err := procField(pid, "smaps_rollup", "Pss")
		if err != nil {
			b.Fatal(err)
		}
		rss, pss = rss+r, pss+p
	}
	return rss, pss
}
