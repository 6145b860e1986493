package s3_test

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
	"github.com/tiermem/tiermem/tier/object/s3"
)

var benchMB = flag.Int("glacier.mb", 256, "megabytes of values the demotion benchmarks write")

// dataset returns values of 4 KiB to 1 MiB (log-uniform), half text-like
// and half float64 arrays (a random walk), mb MiB in all; the same every
// call.
func dataset(mb int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var out [][]byte
	for total := 0; total < mb<<20; {
		n := int(math.Exp(math.Log(4<<10) + rng.Float64()*math.Log(256)))
		var v []byte
		if len(out)%2 == 0 {
			v = textValue(rng, n)
		} else {
			v = floatValue(rng, n)
		}
		out = append(out, v)
		total += n
	}
	return out
}

var words = []string{"tier", "glacier", "pack", "frame", "value", "cold", "warm", "hot", "index", "bucket",
	"durable", "sync", "the", "a", "of", "and", "to", "in", "is", "with", "2024-06-01", "error", "ok", "id="}

func textValue(rng *rand.Rand, n int) []byte {
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[rng.IntN(len(words))]...)
		b = fmt.Appendf(b, " %d ", rng.IntN(10000))
	}
	return b[:n]
}

func floatValue(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	x := 100.0
	for i := 0; i+8 <= n; i += 8 {
		x += rng.NormFloat64()
		binary.LittleEndian.PutUint64(b[i:], math.Float64bits(math.Round(x*100)/100))
	}
	return b
}

// counting is a Bucket that counts requests and bytes.
type counting struct {
	object.Bucket
	puts, gets, putBytes, getBytes atomic.Int64
}

func (c *counting) Put(ctx context.Context, name string, data []byte) error {
	c.puts.Add(1)
	c.putBytes.Add(int64(len(data)))
	return c.Bucket.Put(ctx, name, data)
}

func (c *counting) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	c.gets.Add(1)
	b, err := c.Bucket.Get(ctx, name, off, n)
	c.getBytes.Add(int64(len(b)))
	return b, err
}

func totalBytes(values [][]byte) int64 {
	var n int64
	for _, v := range values {
		n += int64(len(v))
	}
	return n
}

// BenchmarkDemote demotes the data set into a fresh prefix of the S3
// server: Put every value, from one goroutine (as the Manager's migration
// loop does) or two, then Sync. It reports the PUTs per 8 MiB of payload
// and the stored share, at each compression level.
func BenchmarkDemote(b *testing.B) {
	values := dataset(*benchMB)
	for _, c := range []object.Compression{object.ZstdBest, object.ZstdBetter, object.ZstdFastest, object.NoCompression} {
		for _, callers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/callers=%d", c, callers), func(b *testing.B) {
				benchDemote(b, values, &object.Options{Compression: c}, callers)
			})
		}
	}
}

func benchDemote(b *testing.B, values [][]byte, opts *object.Options, callers int) {
	b.SetBytes(totalBytes(values))
	var cb *counting
	for b.Loop() {
		b.StopTimer()
		cb = &counting{Bucket: s3test.Open(b, s3test.URL(b))}
		st, err := object.Open(cb, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var wg sync.WaitGroup
		for g := range callers {
			wg.Go(func() { putEvery(b, st, values, g, callers) })
		}
		wg.Wait()
		if err := st.Sync(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = st.Close()
		b.StartTimer()
	}
	raw := float64(totalBytes(values))
	b.ReportMetric(float64(cb.puts.Load())/(raw/(8<<20)), "PUTs/8MiB")
	b.ReportMetric(float64(cb.putBytes.Load())/raw, "stored/raw")
}

// putEvery puts the values whose index is g modulo every.
func putEvery(b *testing.B, st *object.Store, values [][]byte, g, every int) {
	for i := g; i < len(values); i += every {
		if _, err := st.Put(fmt.Sprint("v", i), values[i], nil); err != nil {
			b.Error(err)
			return
		}
	}
}

// BenchmarkRawPut is the baseline: the same bytes PUT to the same server
// as 32 MiB objects, two at a time (the Store's default Uploads).
func BenchmarkRawPut(b *testing.B) {
	values := dataset(*benchMB)
	blob := make([]byte, 0, totalBytes(values))
	for _, v := range values {
		blob = append(blob, v...)
	}
	b.SetBytes(int64(len(blob)))
	for b.Loop() {
		b.StopTimer()
		bk := s3test.Open(b, s3test.URL(b))
		b.StartTimer()
		putChunks(b, bk, blob, 32<<20, 2)
	}
}

// putChunks PUTs blob as objects of chunk bytes, par at a time.
func putChunks(b *testing.B, bk object.Bucket, blob []byte, chunk, par int) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, par)
	for i := 0; i*chunk < len(blob); i++ {
		part := blob[i*chunk : min((i+1)*chunk, len(blob))]
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := bk.Put(context.Background(), fmt.Sprintf("raw/%04d", i), part); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
}

// wire counts the bytes an HTTP client sends and receives, headers
// included (as Header.Write writes them, plus the request and status
// lines).
type wire struct {
	next        http.RoundTripper
	requests    atomic.Int64
	sent, recvd atomic.Int64
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	w.requests.Add(1)
	w.sent.Add(int64(len(r.Method)+len(r.URL.RequestURI())+11) + headerLen(r.Header) + max(r.ContentLength, 0))
	resp, err := w.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	w.recvd.Add(int64(len(resp.Status)+11) + headerLen(resp.Header))
	resp.Body = &countedBody{ReadCloser: resp.Body, n: &w.recvd}
	return resp, nil
}

func headerLen(h http.Header) int64 {
	var c byteCounter
	_ = h.Write(&c)
	return int64(c) + 2
}

type byteCounter int64

func (c *byteCounter) Write(p []byte) (int, error) { *c += byteCounter(len(p)); return len(p), nil }

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestReadTransfer counts the bytes one glacier read of a 4 KiB value
// moves from a 64 MiB pack on the S3 server: one ranged GET of its frame,
// at most 4 KiB + 64 KiB on the wire, headers included.
func TestReadTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 64 MiB pack")
	}
	u := s3test.URL(t)
	w := &wire{next: http.DefaultTransport}
	loc, err := object.ParseURL(u, "")
	if err != nil {
		t.Fatal(err)
	}
	bk, err := s3.New(context.Background(), loc, func(o *awss3.Options) { o.HTTPClient = &http.Client{Transport: w} })
	if err != nil {
		t.Fatal(err)
	}
	cb := &counting{Bucket: bk}
	opts := &object.Options{PackSize: 64 << 20, Compression: object.NoCompression}
	st, err := object.Open(cb, opts)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	v := make([]byte, 4<<10)
	n := 0
	for ; ; n++ {
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		if _, err := st.Put(fmt.Sprint("k", n), v, nil); err != nil {
			t.Fatal(err)
		}
		if ps, _ := st.Packs(); len(ps) > 1 || ps[0].Durable {
			break // the first pack reached 64 MiB and was sealed
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = object.Open(cb, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, _ := st.Packs()
	gets, getBytes, reqs, sent, recvd := cb.gets.Load(), cb.getBytes.Load(), w.requests.Load(), w.sent.Load(), w.recvd.Load()
	got, _, err := st.GetMeta(fmt.Sprint("k", n/2), nil)
	if err != nil || len(got) != 4<<10 {
		t.Fatalf("read: %d bytes, %v", len(got), err)
	}
	gets, getBytes = cb.gets.Load()-gets, cb.getBytes.Load()-getBytes
	reqs, sent, recvd = w.requests.Load()-reqs, w.sent.Load()-sent, w.recvd.Load()-recvd
	t.Logf("pack %s of %d bytes, %d values; one 4 KiB read: %d GET of %d payload bytes; on the wire %d request(s), %d bytes sent, %d received",
		ps[0].Name, ps[0].Bytes, n, gets, getBytes, reqs, sent, recvd)
	if gets != 1 || reqs != 1 || recvd > 4<<10+64<<10 {
		t.Fatalf("one 4 KiB read took %d GETs, %d requests, %d bytes received; want 1, 1, at most %d", gets, reqs, recvd, 4<<10+64<<10)
	}
}

var openKeys = flag.Int("glacier.keys", 100_000, "keys BenchmarkOpen reopens")

// BenchmarkOpen reopens a store of -glacier.keys keys (100-byte values in
// 32 MiB packs) on the S3 server: the catalog rebuilt from the index
// objects (one LIST, one GET per index) at every Open.
func BenchmarkOpen(b *testing.B) {
	bk := s3test.Open(b, s3test.URL(b))
	st, err := object.Open(bk, &object.Options{Compression: object.ZstdFastest})
	if err != nil {
		b.Fatal(err)
	}
	v := make([]byte, 100)
	for i := range *openKeys {
		copy(v, fmt.Sprintf("value %d", i))
		if _, err := st.Put(fmt.Sprintf("key-%09d", i), v, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		st, err := object.Open(bk, nil)
		if err != nil || st.Len() != int64(*openKeys) {
			b.Fatalf("reopened %d keys of %d: %v", st.Len(), *openKeys, err)
		}
		b.StopTimer()
		_ = st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(*openKeys), "keys")
}
