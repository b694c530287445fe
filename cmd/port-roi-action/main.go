// Command port-roi-action tracks the ROI of Port self-service actions. It runs as a GitHub Action (a
// container action reading its inputs from the environment) and from a terminal; see README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/port-roi/port-roi-action/internal/cli"
)

func main() {
	// GitHub cancels a job with SIGINT then SIGTERM; both cancel the context so that work stops promptly and
	// the last run-log line still goes out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now})
	stop()
	os.Exit(code)
}
