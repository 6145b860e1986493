package tiermem

import (
	"io"

	"github.com/tiermem/tiermem/internal/npy"
)

// writeNPY writes a in NumPy's .npy format, so that numpy.load reads it.
func writeNPY(w io.Writer, a Array) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return npy.Write(w, dtypeInfo[a.DType].npy, a.Shape, a.Data)
}
