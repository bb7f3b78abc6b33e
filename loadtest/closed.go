package loadtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// closedLoop drives a target with n workers, each sending its next request
// as soon as the previous reply arrives, for d: the achieved rate is the
// target's saturation throughput at that concurrency. Unlike a held rate
// under a p99 bound, it does not swing with one slow fsync, so it is the
// figure to compare from day to day (a closed loop hides latency under
// overload, which is why the open-loop steps stay).
func closedLoop(ctx context.Context, tg *target, n int, d time.Duration) Result {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: n * 2, MaxIdleConnsPerHost: n * 2, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type local struct {
		lat  []time.Duration
		ok   uint64
		errs map[string]int
	}
	locals := make([]local, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &locals[w]
			l.errs = map[string]int{}
			for ctx.Err() == nil {
				var t vegeta.Target
				if err := tg.next(&t); err != nil {
					l.errs["targeter: "+truncate(err.Error(), 40)]++
					return
				}
				res := do(client, t)
				if ctx.Err() != nil && res.Error != "" {
					return // cut off by the end of the phase, not a failure
				}
				l.lat = append(l.lat, res.Latency)
				if ok, kind := tg.judge(&res); ok {
					l.ok++
				} else {
					l.errs[kind]++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := Result{Phase: tg.name, Mode: ModeClosed, Concurrency: n, Errors: map[string]int{}}
	var all []time.Duration
	var ok uint64
	for _, l := range locals {
		all = append(all, l.lat...)
		ok += l.ok
		for k, v := range l.errs {
			r.Errors[k] += v
		}
	}
	if len(r.Errors) == 0 {
		r.Errors = nil
	}
	r.Requests = uint64(len(all))
	r.OK = ok
	if r.Requests > 0 {
		r.Success = float64(ok) / float64(r.Requests)
	}
	r.Throughput = float64(ok) / elapsed.Seconds()
	r.Rate = int(r.Throughput + 0.5)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r.P50, r.P90, r.P99 = quantile(all, 0.50), quantile(all, 0.90), quantile(all, 0.99)
	if len(all) > 0 {
		r.Max = all[len(all)-1]
	}
	return r
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// do sends one request and returns it as vegeta would have reported it.
func do(client *http.Client, t vegeta.Target) vegeta.Result {
	req, err := http.NewRequest(t.Method, t.URL, bytes.NewReader(t.Body))
	if err != nil {
		return vegeta.Result{Error: err.Error()}
	}
	for k, v := range t.Header {
		req.Header[k] = v
	}
	began := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return vegeta.Result{Error: err.Error(), Latency: time.Since(began)}
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	r := vegeta.Result{Code: uint16(res.StatusCode), Body: body, Latency: time.Since(began)}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}
