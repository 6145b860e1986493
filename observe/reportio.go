package observe

import (
	"encoding/json"
	"fmt"
	"io"
)

// maxReportBytes bounds what ReadReport reads: a report of 600 samples and
// a full set of suspects is well under 1 MiB.
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
