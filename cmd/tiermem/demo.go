package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/memory"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the examples end to end on the embedded defaults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFoundationDemo(cmd.OutOrStdout())
		},
	}
}

// runFoundationDemo shows off-heap memory, typed views, a mapped file and the
// slab allocator working together.
func runFoundationDemo(out io.Writer) error {
	const size = 256 << 20
	h, err := memory.Allocate(size)
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintf(out, "allocated %d MiB outside the Go heap\n", size>>20)

	slab, err := alloc.NewSlab(size, nil)
	if err != nil {
		return err
	}
	regions, err := alloc.NewRegions(h.Writable(), slab)
	if err != nil {
		return err
	}
	matrix, err := regions.Alloc(1000 * 8)
	if err != nil {
		return err
	}
	for i := range int64(1000) {
		matrix.PutFloat64(i*8, float64(i)/2)
	}
	fmt.Fprintf(out, "stored 1000 float64 in a slab region: element 999 = %.1f\n", matrix.GetFloat64(999*8))
	st := slab.Stats()
	fmt.Fprintf(out, "slab: %d bytes live, internal fragmentation %.2f%%, metadata %.3f%%\n",
		st.LiveBytes, 100*st.InternalFragmentation, 100*st.MetadataOverhead)

	return demoMappedFile(out)
}

// demoMappedFile writes a file through a writable mapping at an unaligned
// offset and reads it back through a read-only one.
func demoMappedFile(out io.Writer) error {
	dir, err := os.MkdirTemp("", "tiermem-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "shared.bin")
	w, err := memory.MapWritable(path, 3, 64)
	if err != nil {
		return err
	}
	w.Writable().WithOrder(memory.BigEndian).PutUint32(0, 0xCAFEF00D)
	if err := w.Force(); err != nil {
		return err
	}
	w.Close()
	r, err := memory.Map(path, 0, 0)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprint(out, r.Memory().HexDump(0, 16))
	return nil
}
