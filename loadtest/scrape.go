package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// scrapeMetric sums the samples of one metric (any labels) at a Prometheus
// endpoint.
func scrapeMetric(ctx context.Context, url, name string) (float64, error) {
	m, err := scrapeMetrics(ctx, url)
	if err != nil {
		return 0, err
	}
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("no %s at %s", name, url)
	}
	return v, nil
}

// scrapeMetrics reads a Prometheus text endpoint: each metric's samples
// summed over their labels, plus each labelled sample under its full name
// (name{labels}).
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, res.StatusCode)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[sp+1:], &v); err != nil {
			continue
		}
		full := line[:sp]
		name := full
		if i := strings.IndexByte(full, '{'); i >= 0 {
			name = full[:i]
			out[full] = v
		}
		out[name] += v
	}
	return out, nil
}
