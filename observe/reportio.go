package observe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// maxReportBytes bounds what ReadReport reads: a report of 600 samples and
// a full set of suspects is well under 1 MiB, one of the largest ring
// (maxRing samples) about 42 MiB.
const maxReportBytes = 64 << 20

// ReadReport reads a report that encoding/json wrote from a Report (for
// example Report saved by a server or a test). It returns ErrFormat for
// anything else: invalid JSON, another kind of document, an unknown
// version, or a report with no samples.
func ReadReport(r io.Reader) (Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxReportBytes+1))
	if err != nil {
		return Report{}, fmt.Errorf("reading report: %w", err)
	}
	if len(data) > maxReportBytes {
		return Report{}, fmt.Errorf("%w: larger than %d bytes", ErrFormat, maxReportBytes)
	}
	if err := checkSampleCount(data); err != nil {
		return Report{}, err
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	switch {
	case rep.Kind != ReportKind:
		return Report{}, fmt.Errorf("%w: kind %q, want %q", ErrFormat, rep.Kind, ReportKind)
	case rep.Version != ReportVersion:
		return Report{}, fmt.Errorf("%w: version %d, this build reads %d", ErrFormat, rep.Version, ReportVersion)
	case len(rep.Samples) == 0:
		return Report{}, fmt.Errorf("%w: no samples", ErrFormat)
	}
	return rep, nil
}

// checkSampleCount refuses a report whose top-level samples array holds
// more samples than a ring can (maxRing), before decoding it builds them
// all: three bytes of JSON ("{},") would otherwise become a Sample of
// hundreds. It walks the document's tokens, keeping none.
func checkSampleCount(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil // not an object: Unmarshal says what is wrong
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "samples" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil
		}
		for n := 0; dec.More(); n++ {
			if n == maxRing {
				return fmt.Errorf("%w: more than %d samples, more than a ring holds", ErrFormat, maxRing)
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
		}
		return nil
	}
	return nil
}
