package heap_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

func TestConformance(t *testing.T) {
	tiertest.Run(t, func(*testing.T) tier.Store { return heap.New() }, nil)
}
