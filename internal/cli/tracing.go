package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/billkey/billkey/internal/tracing"
)

// tracingFlags registers billkey serve's OpenTelemetry settings.
func tracingFlags(fs *flag.FlagSet, o *tracing.Options) {
	bindSetting(fs, "otlp-endpoint", &o.Endpoint)
	bindSetting(fs, "otlp-sample-ratio", &o.SampleRatio)
}

// startTracing installs tracing when configured; stop flushes the spans
// still buffered (for at most 5 s) at shutdown.
func startTracing(ctx context.Context, o tracing.Options, logger *slog.Logger) (stop func(), on bool, err error) {
	if o.SampleRatio <= 0 || o.SampleRatio > 1 {
		return func() {}, false, fmt.Errorf("--otlp-sample-ratio %v: it must be more than 0 and at most 1", o.SampleRatio)
	}
	o.Version, o.Logger = Version, logger.With("component", "tracing")
	shutdown, on, err := tracing.Setup(ctx, o)
	if err != nil {
		return func() {}, false, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			logger.Warn("tracing: flushing spans at shutdown failed", slog.Any("error", err))
		}
	}, on, nil
}
