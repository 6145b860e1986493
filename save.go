package tiermem

import (
	"fmt"
	"os"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/internal/tempfile"
)

// SaveTo writes key's value to the file at path (replaced atomically: a
// temporary file, synced, then renamed), without changing where the value
// lives or counting a read. Arrays are written in NumPy's .npy format, so
// that numpy.load reads them; other values as their bytes. A path in the
// Manager's own cold or glacier store is ErrOptions: it would overwrite
// the Manager's data.
func (m *Manager) SaveTo(key, path string) error {
	if err := m.notOwnStore("SaveTo", path); err != nil {
		return err
	}
	return m.read(key, uncounted, func(_ *tierState, value []byte, env header.Header) error {
		return writeFileAtomic(path, func(f *os.File) error {
			if env.Kind == header.Array {
				return writeNPY(f, Array{DType: DType(env.DType), Shape: env.Shape, Data: value})
			}
			_, err := f.Write(value)
			return err
		})
	})
}

// writeFileAtomic creates path with the bytes write puts in a temporary file
// beside it, synced before the rename.
func writeFileAtomic(path string, write func(*os.File) error) error {
	if err := tempfile.WriteFile(path, write); err != nil {
		return fmt.Errorf("tiermem: saving to %s: %w", path, err)
	}
	return nil
}
