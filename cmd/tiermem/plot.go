package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tempfile"
)

func newPlotCmd() *cobra.Command {
	var from, out, panels string
	cmd := &cobra.Command{
		Use:   "plot --from FILE --out analytics.png",
		Short: "Draw the analytics a Manager wrote (WriteAnalytics) as a PNG, SVG or PDF",
		Long: `plot reads the JSON document Manager.WriteAnalytics wrote (docs/analytics.md)
and draws it, in the format --out's extension names (.png, .svg or .pdf), one
panel per name in --panels:

  usage       the share of each tier's budget in use over time
  hitrate     the hit rate over time, and the share of reads each tier served
  latency     Retrieve and Store latency per tier (p50, p99, p999; log scale)
  migration   promotions, demotions, evictions and expirations per second
  all         every panel above

The samples are drawn in time order, and the time axis counts from the
earliest: a file whose times go back (the clock was stepped back) is sorted
first, samples of equal times kept in file order. An interval without reads
leaves the hit rate out rather than drawing it as 0.`,
		Example: `  tiermem plot --from analytics.json --out analytics.png
  tiermem plot --from analytics.json --out analytics.svg --panels all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlot(cmd.InOrStdin(), from, out, panels)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the analytics JSON file, or - for standard input")
	cmd.Flags().StringVar(&out, "out", "analytics.png", "the picture to write: .png, .svg or .pdf")
	cmd.Flags().StringVar(&panels, "panels", "usage,hitrate", "the panels, comma-separated: usage, hitrate, latency, migration, or all")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

func runPlot(stdin io.Reader, from, out, panels string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	if format != "png" && format != "svg" && format != "pdf" {
		return fmt.Errorf("--out %q: want a .png, .svg or .pdf file", out)
	}
	names, err := panelNames(panels)
	if err != nil {
		return err
	}
	samples, err := readAnalyticsFrom(stdin, from)
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("%s holds no sample: nothing to draw", from)
	}
	// The file keeps wall-clock times, which go back when the clock is
	// stepped (NTP, a VM resumed): drawn in file order, the time axis would
	// start before the first sample and the lines fold back.
	slices.SortStableFunc(samples, func(a, b tiermem.AnalyticsSample) int { return a.Time.Compare(b.Time) })
	var plots []*plot.Plot
	for _, name := range names {
		plots = append(plots, panelMakers[name](samples)...)
	}
	return savePanels(plots, out, format)
}

// panelMakers draw each panel; latency draws two, Retrieve and Store.
var panelMakers = map[string]func([]tiermem.AnalyticsSample) []*plot.Plot{
	"usage":   func(s []tiermem.AnalyticsSample) []*plot.Plot { return []*plot.Plot{usagePanel(s)} },
	"hitrate": func(s []tiermem.AnalyticsSample) []*plot.Plot { return []*plot.Plot{hitRatePanel(s)} },
	"latency": func(s []tiermem.AnalyticsSample) []*plot.Plot {
		return []*plot.Plot{
			latencyPanel(s, "Retrieve latency", func(t tiermem.TierSample) tiermem.Latency { return t.Retrieve }),
			latencyPanel(s, "Store latency", func(t tiermem.TierSample) tiermem.Latency { return t.Store }),
		}
	},
	"migration": func(s []tiermem.AnalyticsSample) []*plot.Plot { return []*plot.Plot{migrationPanel(s)} },
}

var panelOrder = []string{"usage", "hitrate", "latency", "migration"}

// panelNames parses --panels.
func panelNames(list string) ([]string, error) {
	var names []string
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "all":
			return panelOrder, nil
		case panelMakers[name] == nil:
			return nil, fmt.Errorf("--panels: unknown panel %q (want usage, hitrate, latency, migration or all)", name)
		case !slices.Contains(names, name):
			names = append(names, name)
		}
	}
	return names, nil
}

// readAnalyticsFrom reads the samples in the file from, or in stdin for "-".
func readAnalyticsFrom(stdin io.Reader, from string) ([]tiermem.AnalyticsSample, error) {
	r, name := stdin, "standard input"
	if from != "-" {
		f, err := os.Open(from)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, from
	}
	s, err := tiermem.ReadAnalytics(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// tierColors tell the tiers apart in every panel.
var tierColors = [...]color.Color{
	tiermem.Hot:     color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	tiermem.Warm:    color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	tiermem.Cold:    color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	tiermem.Glacier: color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
}

// timeAxis returns each sample's time since the first in the unit that
// suits the span, and the axis label.
func timeAxis(s []tiermem.AnalyticsSample) (x []float64, label string) {
	span := s[len(s)-1].Time.Sub(s[0].Time)
	unit, name := time.Second, "s"
	switch {
	case span > 3*time.Hour:
		unit, name = time.Hour, "h"
	case span > 5*time.Minute:
		unit, name = time.Minute, "min"
	}
	for _, sample := range s {
		x = append(x, float64(sample.Time.Sub(s[0].Time))/float64(unit))
	}
	return x, "Time since the first sample (" + name + ")"
}

// newPanel returns a plot with the title and labels, a light grid, and
// text large enough to read on a screen.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(15)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = cleanTicks{}, cleanTicks{}
	p.X.Min = 0 // every panel's time axis starts at the first sample
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe0}
	g.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(g)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	return p
}

// addLine draws the points with a value (NaN is a gap in the data, left
// out), with a marker on each point when they are few.
func addLine(p *plot.Plot, name string, x, y []float64, c color.Color, width vg.Length, dashes []vg.Length) {
	var xys plotter.XYs
	for i := range x {
		if !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) {
			xys = append(xys, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	if len(xys) == 0 {
		return
	}
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return // the values were checked finite above
	}
	line.Color, line.Width, line.Dashes = c, width, dashes
	points.Color, points.Shape, points.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
	p.Add(line)
	thumbs := []plot.Thumbnailer{line}
	if len(xys) <= 40 {
		p.Add(points)
		thumbs = append(thumbs, points)
	}
	if name != "" {
		p.Legend.Add(name, thumbs...)
	}
}

func usagePanel(s []tiermem.AnalyticsSample) *plot.Plot {
	x, xLabel := timeAxis(s)
	p := newPanel("Memory usage per tier", xLabel, "Usage (% of the tier's budget)")
	top := 0.0
	for t := range s[0].Tiers {
		if s[len(s)-1].Tiers[t].Capacity == 0 {
			continue // no budget (glacier): no percentage
		}
		y := make([]float64, len(s))
		for i := range s {
			y[i] = s[i].Tiers[t].Percent
			top = max(top, y[i])
		}
		addLine(p, tiermem.Tier(t).String(), x, y, tierColors[t], vg.Points(2), nil)
	}
	// A tier near its budget shows against the whole budget; little use is
	// drawn to its own scale rather than as a flat line along 0.
	p.Y.Min, p.Y.Max = 0, top*1.04
	if top < 50 {
		p.Y.Max = max(top*1.15, 1)
	} else {
		p.Y.Tick.Marker = percentTicks{}
	}
	return p
}

// cleanTicks are gonum's default ticks, labelled without trailing zeros
// (2.5, not 2.50).
type cleanTicks struct{}

func (cleanTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
	}
	return ticks
}

// percentTicks mark every 10%, labelled every 20%, up to 400% of a span.
type percentTicks struct{}

func (percentTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi-lo > 400 { // a tier far over its budget: ticks every 10% would be thousands, or never end
		return cleanTicks{}.Ticks(lo, hi)
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/10) * 10; v <= hi; v += 10 {
		t := plot.Tick{Value: v}
		if int(v)%20 == 0 {
			t.Label = fmt.Sprint(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func hitRatePanel(s []tiermem.AnalyticsSample) *plot.Plot {
	x, xLabel := timeAxis(s)
	p := newPanel("Hit rate", xLabel, "Reads (%)")
	y := make([]float64, len(s))
	for i := range s {
		y[i] = 100 * s[i].HitRate
	}
	addLine(p, "hit rate (all tiers)", x, y, color.Black, vg.Points(2.5), nil)
	for t := range s[0].Tiers {
		y := make([]float64, len(s))
		served := false
		for i := range s {
			y[i] = 100 * s[i].Tiers[t].HitRate
			served = served || s[i].Tiers[t].Hits > 0
		}
		if served {
			addLine(p, "served by "+tiermem.Tier(t).String(), x, y, tierColors[t], vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(3)})
		}
	}
	p.Y.Min, p.Y.Max = 0, 104
	p.Y.Tick.Marker = percentTicks{}
	return p
}

// percentileDashes draw p50 solid, p99 dashed and p999 dotted.
var percentileDashes = [...][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2.5)}}

func latencyPanel(s []tiermem.AnalyticsSample, title string, of func(tiermem.TierSample) tiermem.Latency) *plot.Plot {
	x, xLabel := timeAxis(s)
	highest := time.Duration(0)
	for _, sample := range s {
		for _, t := range sample.Tiers {
			highest = max(highest, of(t).P999)
		}
	}
	unit, name := latencyUnit(highest)
	p := newPanel(title, xLabel, "Latency ("+name+", log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	lowest := math.Inf(1)
	drawn := false
	for t := range s[0].Tiers {
		var ys [3][]float64
		timed := false
		for _, sample := range s {
			l := of(sample.Tiers[t])
			for q, v := range [...]time.Duration{l.P50, l.P99, l.P999} {
				y := math.NaN()
				if l.Samples > 0 && v > 0 {
					y = float64(v) / float64(unit)
					lowest = min(lowest, y)
					timed = true
				}
				ys[q] = append(ys[q], y)
			}
		}
		if !timed {
			continue
		}
		drawn = true
		for q := range ys {
			addLine(p, "", x, ys[q], tierColors[t], vg.Points(1.5), percentileDashes[q])
		}
		// One legend entry per tier (its color) ...
		p.Legend.Add(tiermem.Tier(t).String(), swatch(tierColors[t], nil))
	}
	if !drawn {
		p.Title.Text += " (no operation timed)"
		p.Y.Scale, p.Y.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
		return p
	}
	// ... and one per percentile (its dashes).
	for q, name := range [...]string{"p50", "p99", "p99.9"} {
		p.Legend.Add(name, swatch(color.Gray{Y: 0x40}, percentileDashes[q]))
	}
	p.Y.Min = lowest / 1.5
	return p
}

// logTicks mark 1, 2 and 5 of every power of ten, labelled, and the
// other digits unlabelled.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for p := math.Pow(10, math.Floor(math.Log10(lo))); p <= hi; p *= 10 {
		for d := 1.0; d < 10; d++ {
			if v := d * p; v >= lo && v <= hi {
				t := plot.Tick{Value: v}
				if d == 1 || d == 2 || d == 5 {
					t.Label = strconv.FormatFloat(v, 'g', -1, 64)
				}
				ticks = append(ticks, t)
			}
		}
	}
	return ticks
}

// swatch is a legend thumbnail: a line of a color and dashes.
func swatch(c color.Color, dashes []vg.Length) plot.Thumbnailer {
	l := &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(2), Dashes: dashes}}
	return l
}

// latencyUnit returns the unit in which the largest latency reads best.
func latencyUnit(largest time.Duration) (time.Duration, string) {
	switch {
	case largest >= 10*time.Second:
		return time.Second, "s"
	case largest >= 10*time.Millisecond:
		return time.Millisecond, "ms"
	case largest >= 10*time.Microsecond:
		return time.Microsecond, "µs"
	}
	return time.Nanosecond, "ns"
}

func migrationPanel(s []tiermem.AnalyticsSample) *plot.Plot {
	x, xLabel := timeAxis(s)
	p := newPanel("Migrations between tiers", xLabel, "Events per second")
	kinds := []struct {
		name  string
		of    func(tiermem.TierStats) int64
		color color.Color
	}{
		{"promotions", func(t tiermem.TierStats) int64 { return t.Promotions }, color.RGBA{G: 0x99, B: 0x44, A: 0xff}},
		{"demotions", func(t tiermem.TierStats) int64 { return t.Demotions }, tierColors[tiermem.Cold]},
		{"evictions (demotions for room)", func(t tiermem.TierStats) int64 { return t.Evictions }, tierColors[tiermem.Hot]},
		{"expirations", func(t tiermem.TierStats) int64 { return t.Expirations }, color.Gray{Y: 0x55}},
	}
	intervals := make([]time.Duration, len(s))
	for i := range s {
		intervals[i] = s[i].Interval
	}
	slices.Sort(intervals)
	short := intervals[len(s)/2] / 4
	for _, k := range kinds {
		y := make([]float64, len(s))
		for i, sample := range s {
			var n int64
			for _, t := range sample.Tiers {
				n += k.of(t.TierStats)
			}
			y[i] = math.NaN() // a short interval (the last, cut by DisableAnalytics) makes a rate of noise
			if sample.Interval > 0 && sample.Interval >= short {
				y[i] = float64(n) / sample.Interval.Seconds()
			}
		}
		var dashes []vg.Length
		if k.name != "demotions" { // evictions are demotions too: dashed, the line below shows through
			dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		if k.name == "promotions" {
			dashes = nil
		}
		addLine(p, k.name, x, y, k.color, vg.Points(2), dashes)
	}
	p.Y.Min = 0
	return p
}

// Each panel is panelWidth × panelHeight, two to a row (one alone when it
// is the only one), with its legend in a column to the right of its data,
// so that no line is ever hidden behind it.
const (
	panelWidth  = 7 * vg.Inch
	panelHeight = 4.5 * vg.Inch
	margin      = 0.15 * vg.Inch
)

// savePanels lays the panels out and writes them to out.
func savePanels(plots []*plot.Plot, out, format string) error {
	cols := min(len(plots), 2)
	rows := (len(plots) + cols - 1) / cols
	w, h := vg.Length(cols)*panelWidth, vg.Length(rows)*panelHeight
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadTop: margin, PadBottom: margin, PadLeft: margin, PadRight: margin,
		PadX: 2 * margin, PadY: 2 * margin}
	for i, p := range plots {
		drawPanel(p, tiles.At(dc, i%cols, i/cols))
	}
	err = tempfile.WriteFile(out, func(f *os.File) error { // a failed write leaves the previous picture
		_, err := c.WriteTo(f)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return os.Chmod(out, 0o644) // a picture is for anyone to look at
}

// drawPanel draws p in cell, its legend beside the data area, at its top.
func drawPanel(p *plot.Plot, cell draw.Canvas) {
	legend := p.Legend
	p.Legend = plot.NewLegend()
	width := legendWidth(&legend, cell)
	area := cell
	area.Max.X -= width
	p.Draw(area)
	data := p.DataCanvas(area)
	legend.Top, legend.Left = true, true
	legend.Draw(draw.Canvas{Canvas: cell.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: area.Max.X + margin, Y: data.Min.Y},
		Max: vg.Point{X: cell.Max.X, Y: data.Max.Y},
	}})
}

// legendWidth is the width the legend's column takes, with a margin.
func legendWidth(l *plot.Legend, c draw.Canvas) vg.Length {
	r := l.Rectangle(c)
	if r.Size().X == 0 {
		return 0
	}
	return r.Size().X + 2*margin
}

// memoryAnalytics is the document's "Memory Analytics" example, which
// demo runs last: twenty 100×100 matrices stored in hot memory, three
// random reads of the earlier ones after each, a pause of a tenth of
// --wait per step (the document's half second at the default), a sample
// every pause, and the usage and hit-rate panels saved as
// memory_analytics.png in --dir, or in the working directory when the demo
// runs in a temporary one, as the document's does.
func memoryAnalytics(cfg demoConfig, pngDir string) error {
	m, err := tiermem.Open(filepath.Join(cfg.dir, "analytics"), demoOptions(cfg))
	if err != nil {
		return err
	}
	defer m.Close()
	step := cfg.wait / 10
	if err := m.EnableAnalytics(max(step, 10*time.Millisecond)); err != nil {
		return err
	}
	data := make([]float64, 100*100)
	for i := range 20 {
		fillRandom(data)
		for j := range data {
			data[j] *= float64(i)
		}
		if err := m.StoreArray(fmt.Sprintf("data_%d", i), tiermem.Float64Array(data, 100, 100), tiermem.InTier(tiermem.Hot)); err != nil {
			return err
		}
		if i > 0 {
			for range 3 {
				if _, err := m.RetrieveArray(fmt.Sprintf("data_%d", rand.IntN(i))); err != nil {
					return err
				}
			}
		}
		time.Sleep(step)
	}
	m.DisableAnalytics()
	samples := m.Analytics()
	out := filepath.Join(pngDir, "memory_analytics.png")
	if err := savePanels([]*plot.Plot{usagePanel(samples), hitRatePanel(samples)}, out, "png"); err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "Analytics visualization saved to %s\n", out)
	return nil
}
