// Command billkey is a self-hosted subscription payment gateway, compatible
// with the i'mport (PortOne V1) REST API and browser SDK, with KG INICIS as
// its PG. Run "billkey help" for the subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/billkey/billkey/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
