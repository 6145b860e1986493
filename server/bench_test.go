package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// BenchmarkRedisBenchmark runs redis-benchmark (-P 16 -c 50, 3-byte
// values) against tiermem's server and against a redis-server started the
// same way, in one run, SET then GET, each side alternately: ns/op is per
// request; allocs/op counts tiermem's server alone (it runs in this
// process); req/s is redis-benchmark's figure.
func BenchmarkRedisBenchmark(b *testing.B) {
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		b.Skip("redis-benchmark not on PATH")
	}
	tm, _, _ := startTiermem(b, nil)
	rd := startRedis(b)
	for _, test := range []string{"set", "get"} {
		for _, side := range []struct{ name, addr string }{{"tiermem", tm}, {"redis", rd}} {
			b.Run(test+"/"+side.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(3)
				rps := redisBenchmark(b, side.addr, test, max(b.N, 16))
				b.ReportMetric(rps, "req/s")
			})
		}
	}
}

var rpsLine = regexp.MustCompile(`([0-9.]+) requests per second`)

// redisBenchmark runs one redis-benchmark test of n requests and returns
// its requests per second.
func redisBenchmark(b *testing.B, addr, test string, n int) float64 {
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("redis-benchmark", "-h", host, "-p", port, "-P", "16", "-c", "50", "-t", test, "-n", strconv.Itoa(n), "-q")
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("redis-benchmark printed %q", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return rps
}

// BenchmarkPipelinedInProcess sends pipelines of 16 SETs or GETs over one
// connection: the server's own cost per command, allocations included.
func BenchmarkPipelinedInProcess(b *testing.B) {
	addr, _, _ := startTiermem(b, nil)
	value := strings.Repeat("v", 100)
	for _, name := range []string{"SET", "GET"} {
		b.Run(name, func(b *testing.B) {
			c := dial(b, addr)
			var batch []byte
			for i := range 16 {
				args := []string{name, "key:" + strconv.Itoa(i)}
				if name == "SET" {
					args = append(args, value)
				}
				batch = append(batch, encode(args...)...)
			}
			if name == "GET" {
				c.send(encodeSets(value))
				drain(b, c.br, 16)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			b.ResetTimer()
			for i := 0; i < b.N; i += 16 {
				c.send(batch)
				drain(b, c.br, 16)
			}
		})
	}
}

func encodeSets(value string) []byte {
	var batch []byte
	for i := range 16 {
		batch = append(batch, encode("SET", "key:"+strconv.Itoa(i), value)...)
	}
	return batch
}

// drain reads n replies of one line or one bulk each.
func drain(b *testing.B, br *bufio.Reader, n int) {
	for range n {
		line, err := br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if line[0] == '$' {
			size, _ := strconv.Atoi(string(line[1 : len(line)-2]))
			if size >= 0 {
				if _, err := br.Discard(size + 2); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkGetLarge GETs a 4 MiB value over one connection, from the hot
// tier (sent where the tier holds it), from warm (from its mapping) and
// from cold (verified, then read from its segment as it is sent): MB/s and
// the Go memory allocated per GET.
//
//	go test -run '^$' -bench GetLarge -benchtime 100x -count 3 ./server
func BenchmarkGetLarge(b *testing.B) {
	addr, _, m := startTiermem(b, nil)
	value := make([]byte, 4<<20) // random: stored raw in cold, as a large value that does not compress is
	rand.NewChaCha8([32]byte{4}).Read(value)
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		b.Run(tier.String(), func(b *testing.B) {
			if err := m.Store("big", value, tiermem.InTier(tier)); err != nil {
				b.Fatal(err)
			}
			c := dial(b, addr)
			get := encode("GET", "big")
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				c.send(get)
				drain(b, c.br, 1)
			}
		})
	}
}

// BenchmarkGetRangeCold reads 100 bytes from the middle of a 24 MiB value
// stored raw in the cold tier: MB/s counts the whole value each GETRANGE
// answers from, and the Go memory allocated per command shows whether the
// value was loaded.
func BenchmarkGetRangeCold(b *testing.B) {
	addr, _, m := startTiermem(b, nil)
	value := []byte(strings.Repeat("0123456789abcdef", 24<<16)) // 24 MiB
	if err := m.StoreFrom("big", bytes.NewReader(value), int64(len(value)), tiermem.InTier(tiermem.Cold)); err != nil {
		b.Fatal(err)
	}
	c := dial(b, addr)
	cmd := encode("GETRANGE", "big", "12582912", "12583011")
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	for b.Loop() {
		c.send(cmd)
		drain(b, c.br, 1)
	}
}

// BenchmarkPipelinedRandomKeys sends pipelines of 16 SETs or GETs of keys
// drawn at random from a million, all in the hot tier, over one connection
// (redis-benchmark's -r 1000000 -P 16, where most lookups miss the CPU's
// cache: the case PrepareLookups is for), and MGETs of 16 such keys; ns/op
// is per key.
//
//	go test -run '^$' -bench PipelinedRandomKeys -benchtime 2000000x -count 3 ./server
func BenchmarkPipelinedRandomKeys(b *testing.B) {
	const keys = 1 << 20
	o := testOptions()
	o.Hot.Size, o.Warm.Size = 1<<30, 64<<20
	addr, _, _ := startManager(b, b.TempDir(), o, nil)
	c := dial(b, addr)
	value := strings.Repeat("v", 100)
	key := func(i int) string { return fmt.Sprintf("key:%012d", i) }
	for i := 0; i < keys; i += 16 {
		var batch []byte
		for j := range 16 {
			batch = append(batch, encode("SET", key(i+j), value)...)
		}
		c.send(batch)
		drain(b, c.br, 16)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"SET", "GET", "MGET"} {
		batches := make([][]byte, 4096)
		replies := 16
		for i := range batches {
			if name == "MGET" { // one command of 16 keys
				args := []string{name}
				for range 16 {
					args = append(args, key(r.IntN(keys)))
				}
				batches[i], replies = encode(args...), 17
				continue
			}
			for range 16 {
				args := []string{name, key(r.IntN(keys))}
				if name == "SET" {
					args = append(args, value)
				}
				batches[i] = append(batches[i], encode(args...)...)
			}
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for i := 0; i < b.N; i += 16 {
				c.send(batches[(i/16)%len(batches)])
				drain(b, c.br, replies)
			}
		})
	}
}

// BenchmarkDeepPipeline writes a pipeline of 4,000 ECHOs of 16 KiB
// (64 MiB each way, far more than the sockets' buffers hold) whole before
// it reads a reply, as client libraries' pipelines do, to tiermem's server
// and to a redis-server started the same way: MB/s of replies. tiermem
// reads on while its replies wait (a sender goroutine writes them); before
// it did, such a pipeline stalled until a timeout.
//
//	go test -run '^$' -bench DeepPipeline -benchtime 5x -count 3 ./server
func BenchmarkDeepPipeline(b *testing.B) {
	req, want := echoPipeline(4000, 16<<10)
	sides := []struct{ name, addr string }{{"tiermem", ""}}
	tm, _, _ := startTiermem(b, nil)
	sides[0].addr = tm
	if _, err := exec.LookPath("redis-server"); err == nil {
		sides = append(sides, struct{ name, addr string }{"redis", startRedis(b)})
	}
	for _, side := range sides {
		b.Run(side.name, func(b *testing.B) {
			c := dial(b, side.addr)
			got := make([]byte, len(want))
			b.ReportAllocs()
			b.SetBytes(int64(len(want)))
			for range b.N {
				c.nc.SetDeadline(time.Now().Add(time.Minute))
				if _, err := c.nc.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c.br, got); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				b.Fatal("the replies differ from what was sent")
			}
		})
	}
}
