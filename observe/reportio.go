package observe

import (
	"encoding/json"
	"fmt"
	"io"
)

// Bounds of what ReadReport reads and builds. A report's JSON is larger
// than the values it decodes to, except for lists of empty objects: three
// bytes ("{},") become a value of a few hundred. So every list is counted
// before it is built, and refused past its bound.
const (
	// maxSampleJSON is the most JSON one sample takes indented as
	// "tiermem report --json" writes it, every figure at its widest (about
	// 900 bytes; a long-running server's samples take about 580).
	maxSampleJSON = 1 << 10
	// maxReportBytes bounds what ReadReport reads: a full ring (maxRing
	// samples) at maxSampleJSON each, and 16 MiB for the rest.
	maxReportBytes = maxRing*maxSampleJSON + 16<<20
	// maxList bounds every list of a report but its samples: suspects,
	// hot spots, sources, proposals, what Apply applied, a stack's
	// functions.
	maxList = 1 << 14
)

// ReadReport reads a report that encoding/json wrote from a Report (for
// example Report saved by a server or a test). It returns ErrFormat for
// anything else: invalid JSON, another kind of document, an unknown
// version, a report with no samples, more samples than a ring holds
// (maxRing) or a list longer than any report has (maxList).
func ReadReport(r io.Reader) (Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxReportBytes+1))
	if err != nil {
		return Report{}, fmt.Errorf("reading report: %w", err)
	}
	if len(data) > maxReportBytes {
		return Report{}, fmt.Errorf("%w: larger than %d bytes", ErrFormat, maxReportBytes)
	}
	var w wireReport
	if err := json.Unmarshal(data, &w); err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	rep := w.report()
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

// The wire types are what ReadReport decodes into: each embeds the type it
// reads, and shadows every list of it with a bounded one of the same JSON
// name (encoding/json fills the shallower field). encoding/json matches
// keys regardless of case and decodes every duplicate key, so each list
// under any spelling goes through its bound.
type (
	wireReport struct {
		Report
		GC         wireGC                             `json:"gc"`
		Leaks      bounded[wireSuspect, listMax]      `json:"leaks"`
		HotSpots   wireHotSpots                       `json:"hot_spots"`
		Allocators bounded[AllocatorMetrics, listMax] `json:"allocators"`
		Pools      bounded[PoolMetrics, listMax]      `json:"pools"`
		Caches     bounded[CacheMetrics, listMax]     `json:"caches"`
		Applied    bounded[Applied, listMax]          `json:"applied"`
		Samples    bounded[Sample, ringMax]           `json:"samples"`
	}
	wireGC struct {
		GC
		Bottlenecks   bounded[Bottleneck, listMax]  `json:"bottlenecks"`
		Opportunities bounded[Opportunity, listMax] `json:"opportunities"`
	}
	wireHotSpots struct {
		HotSpots
		ByBytes   bounded[HotSpot, listMax] `json:"by_bytes"`
		ByObjects bounded[HotSpot, listMax] `json:"by_objects"`
	}
	wireSuspect struct {
		Suspect
		Stack bounded[string, listMax] `json:"stack"`
	}
)

// report returns the Report read.
func (w *wireReport) report() Report {
	r := w.Report
	r.GC = w.GC.GC
	r.GC.Bottlenecks, r.GC.Opportunities = w.GC.Bottlenecks, w.GC.Opportunities
	r.HotSpots = HotSpots{ByBytes: w.HotSpots.ByBytes, ByObjects: w.HotSpots.ByObjects}
	if w.Leaks != nil {
		r.Leaks = make([]Suspect, len(w.Leaks))
		for i, s := range w.Leaks {
			r.Leaks[i] = s.Suspect
			r.Leaks[i].Stack = s.Stack
		}
	}
	r.Allocators, r.Pools, r.Caches, r.Applied = w.Allocators, w.Pools, w.Caches, w.Applied
	r.Samples = w.Samples
	return r
}

// limit is the bound of a bounded list.
type limit interface{ max() int }

type (
	listMax struct{} // maxList
	ringMax struct{} // maxRing
)

func (listMax) max() int { return maxList }
func (ringMax) max() int { return maxRing }

// bounded is a list that decodes from JSON only if it holds at most L's
// bound of elements, counted before any is built.
type bounded[T any, L limit] []T

// UnmarshalJSON decodes a JSON array (or null) of at most L's bound of
// elements.
func (b *bounded[T, L]) UnmarshalJSON(data []byte) error {
	var l L
	n, ok := countElements(data)
	if !ok {
		return json.Unmarshal(data, (*[]T)(b)) // not an array: let encoding/json say what it is
	}
	if n > l.max() {
		return fmt.Errorf("%w: a list of more than %d elements", ErrFormat, l.max())
	}
	s := make([]T, 0, n)
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*b = s
	return nil
}

// countElements counts the elements of a JSON array that encoding/json has
// already found valid; false for anything but an array. It builds nothing:
// it follows only the nesting and the strings, where brackets and commas
// mean nothing.
func countElements(data []byte) (int, bool) {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '[' {
		return 0, false
	}
	if j := skipSpace(data, i+1); j < len(data) && data[j] == ']' {
		return 0, true
	}
	n, depth, inString, escape := 1, 0, false, false
	for _, c := range data[i+1:] {
		switch {
		case escape:
			escape = false
		case inString:
			escape, inString = c == '\\', c != '"'
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			n++
		}
	}
	return n, true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
