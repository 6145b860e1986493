package observe

import (
	"runtime"
	"testing"
)

func TestParseStatm(t *testing.T) {
	for in, want := range map[string]int64{
		"1000 250 30 1 0 200 0\n": 250,
		"":                        0,
		"12":                      0,
		"1 -5 2":                  0,
		"1 x 2":                   0,
	} {
		if got := parseStatm([]byte(in)); got != want {
			t.Errorf("parseStatm(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	for in, want := range map[string]int64{
		"MemTotal:       16384 kB\nMemFree: 1 kB\n": 16384 << 10,
		"MemFree: 1 kB\n":     0,
		"MemTotal: lots kB\n": 0,
		"":                    0,
	} {
		if got := parseMemTotal([]byte(in)); got != want {
			t.Errorf("parseMemTotal(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestProcFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	if readRSS() <= 0 || physicalMemory() <= 0 {
		t.Fatalf("RSS %d, RAM %d: /proc/self/statm and /proc/meminfo must read", readRSS(), physicalMemory())
	}
}
