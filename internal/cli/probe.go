package cli

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runProbe implements "billkey probe": a health check client for container
// images without a shell or curl (Docker HEALTHCHECK, compose healthcheck).
// It exits 0 when the URL answers 200, else 1.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billkey probe", flag.ContinueOnError)
	var target string
	var timeout time.Duration
	var insecure bool
	fs.StringVar(&target, "url", "http://127.0.0.1:8080/readyz", "URL that must answer 200")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	fs.BoolVar(&insecure, "insecure", false, "accept any TLS certificate (a self-signed one on loopback)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // #nosec G402 -- opt-in, for a loopback probe
	}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("probe: %s answered %d: %s", target, res.StatusCode, body)
	}
	fmt.Fprintf(stdout, "%s: %d\n", target, res.StatusCode)
	return nil
}
