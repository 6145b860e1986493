package observe

import (
	"fmt"
	"math"
	"time"
)

// bytesString formats n bytes with a binary unit: "512 B", "1.5 MiB".
func bytesString(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v, units := float64(n), "KMGTPE"
	i := -1
	for math.Abs(v) >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func percent(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
