package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script runs in the
// console (its CSP allows none), nothing is fetched, and a chart reads the
// same with a screen reader (each bar has a <title>) and at phone width
// (the SVG scales to its container).

// barPoint is one bar.
type barPoint struct {
	Label string
	Value int64
	Title string // tooltip; default Label
	Color string // default the chart's
}

func esc(s string) string { return html.EscapeString(s) }

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v int64) int64 {
	if v <= 0 {
		return 1
	}
	p := int64(1)
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// compact formats an axis value: 1.2만, 35만, 1.5억.
func compact(v int64) string {
	switch {
	case v >= 100_000_000:
		return trimZero(float64(v)/100_000_000) + "억"
	case v >= 10_000:
		return trimZero(float64(v)/10_000) + "만"
	}
	return fmt.Sprint(v)
}

func trimZero(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

// barChart draws vertical bars with a y axis of three gridlines.
func barChart(title string, pts []barPoint, color string, format func(int64) string) template.HTML {
	const w, h, left, bottom, top = 640, 240, 56, 30, 14
	var max int64
	for _, p := range pts {
		max = maxI(max, p.Value)
	}
	max = niceMax(max)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, esc(title))
	plotH := float64(h - bottom - top)
	for i := 0; i <= 2; i++ {
		v := max * int64(i) / 2
		y := float64(top) + plotH - plotH*float64(i)/2
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e2e8f0"/>`, left, y, w, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="13" fill="#64748b">%s</text>`, left-6, y+4, esc(compact(v)))
	}
	n := len(pts)
	if n > 0 {
		slot := float64(w-left) / float64(n)
		bw := slot * 0.7
		every := 1
		for n/every > 8 {
			every++
		}
		for i, p := range pts {
			bh := plotH * float64(p.Value) / float64(max)
			x := float64(left) + slot*float64(i) + (slot-bw)/2
			c := color
			if p.Color != "" {
				c = p.Color
			}
			tip := p.Title
			if tip == "" {
				tip = p.Label + " " + format(p.Value)
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s"><title>%s</title></rect>`,
				x, float64(top)+plotH-bh, bw, bh, c, esc(tip))
			if i%every == 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="13" fill="#64748b">%s</text>`,
					x+bw/2, h-bottom+16, esc(p.Label))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// hbarChart draws labelled horizontal bars (decline reasons).
func hbarChart(title string, pts []barPoint, color string) template.HTML {
	if len(pts) == 0 {
		return template.HTML(`<p class="empty">거절된 결제가 없습니다.</p>`)
	}
	const w, row = 640, 32
	h := row*len(pts) + 6
	var max int64
	for _, p := range pts {
		max = maxI(max, p.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, esc(title))
	for i, p := range pts {
		y := i*row + 4
		bw := float64(w-60) * float64(p.Value) / float64(max)
		fmt.Fprintf(&b, `<rect x="0" y="%d" width="%.1f" height="%d" rx="3" fill="%s" fill-opacity="0.18"><title>%s</title></rect>`,
			y, bw, row-6, color, esc(p.Label))
		fmt.Fprintf(&b, `<text x="8" y="%d" font-size="14" fill="#0f172a">%s</text>`, y+18, esc(truncate(p.Label, 70)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="14" font-weight="600" fill="%s">%d건</text>`, w-4, y+18, color, p.Value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// stackChart draws one bar split by share, with a legend (webhook health).
func stackChart(title string, pts []barPoint) template.HTML {
	var total int64
	for _, p := range pts {
		total += p.Value
	}
	const w = 640
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d 66" role="img" aria-label="%s">`, w, esc(title))
	if total == 0 {
		fmt.Fprintf(&b, `<rect x="0" y="4" width="%d" height="22" rx="4" fill="#e2e8f0"><title>없음</title></rect>`, w)
	}
	x := 0.0
	for _, p := range pts {
		if p.Value == 0 {
			continue
		}
		pw := float64(w) * float64(p.Value) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" y="4" width="%.1f" height="22" fill="%s"><title>%s %d건</title></rect>`, x, pw, p.Color, esc(p.Label), p.Value)
		x += pw
	}
	lx := 0
	for _, p := range pts {
		fmt.Fprintf(&b, `<rect x="%d" y="40" width="14" height="14" rx="2" fill="%s"/><text x="%d" y="52" font-size="14" fill="#334155">%s %d</text>`,
			lx, p.Color, lx+17, esc(p.Label), p.Value)
		lx += 160
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func maxI(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
