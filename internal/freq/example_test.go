package freq_test

import (
	"fmt"
	"time"

	"github.com/tiermem/tiermem/internal/freq"
)

func ExampleSketch() {
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	now := start
	s := freq.New(&freq.Options{Window: time.Minute, Keys: 1000, Now: func() time.Time { return now }})

	for range 6 {
		s.Add("popular")
	}
	s.Add("rare")
	fmt.Println(s.Estimate("popular"), s.Estimate("rare"), s.Estimate("unread"))

	now = start.Add(time.Minute) // a window later, every count is halved
	s.Age()
	fmt.Println(s.Estimate("popular"), s.Estimate("rare"))

	s.Resize(1_000_000) // the store grew: estimates stay as they were
	fmt.Println(s.Estimate("popular"), s.Bytes())
	// Output:
	// 6 1 0
	// 3 0
	// 3 2097152
}
