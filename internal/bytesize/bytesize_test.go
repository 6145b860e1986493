package bytesize

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true}, {"64MiB", 64 << 20, true}, {"2 KiB", 2048, true},
		{"10b", 10, true}, {"3gb", 3 << 30, true}, {"5MB", 5 << 20, true}, {"0", 0, true},
		// Redis's units: k, m, g, t are powers of 1000 (redis-server's CONFIG SET maxmemory 1g is 10^9).
		{"1g", 1e9, true}, {"2k", 2000, true}, {"3M", 3e6, true}, {"1t", 1e12, true}, {"1kb", 1024, true},
		{"", 0, false}, {"-1", 0, false}, {"1.5g", 0, false}, {"9999999999T", 0, false},
		{"4611686018427387904", 0, false}, {"GiB", 0, false}, {"12 parsecs", 0, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"4096", "64MiB", "1 g", "-3", "9999999999T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err == nil && (n < 0 || n >= 1<<62) {
			t.Fatalf("Parse(%q) = %d", s, n)
		}
	})
}
