package observe_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/observe"
)

// FuzzReadReport: ReadReport never panics, and whatever it accepts encodes
// to JSON that reads back the same.
func FuzzReadReport(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "report.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"kind":"tiermem.observe.report","version":1,"samples":[{"heap_live":1}]}`))
	f.Add([]byte(`{"kind":"tiermem.observe.report","version":1,"samples":[{}],"leaks":[{"kind":"heap"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := observe.ReadReport(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = r.Summary()
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("an accepted report does not encode: %v", err)
		}
		back, err := observe.ReadReport(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("a re-encoded report is refused: %v", err)
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(enc, again) {
			t.Fatal("the round trip changed the report")
		}
	})
}
