package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "configuration `FILE` (default: the embedded demo configuration)")
	if !parse(fs, args, stderr) {
		return 2
	}
	cfg, err := configs.Load(*path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch: configuration:\n%v\n", err)
		return 2
	}
	log := gateway.NewLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	redis.SetLogger(redisLogger{log: log.With("component", "redis-client")})
	g, err := gateway.New(ctx, cfg, log)
	var problems configs.Problems
	if errors.As(err, &problems) {
		fmt.Fprintf(stderr, "airbranch: configuration:\n%v\n", problems)
		return 2
	}
	if err != nil {
		log.Error("start failed", "error", err)
		return 1
	}
	if err := g.Run(ctx); err != nil {
		log.Error("stopped with error", "error", err)
		return 1
	}
	return 0
}

func checkConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	path := fs.String("config", "", "configuration `FILE` to check (default: the embedded configuration)")
	if !parse(fs, args, stderr) {
		return 2
	}
	if _, _, err := configs.Check(*path, getenv); err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
		return 1
	}
	name := *path
	if name == "" {
		name = "embedded configuration"
	}
	fmt.Fprintf(stdout, "%s: ok\n", name)
	return 0
}

// redisLogger sends go-redis's own messages (dial failures, pool events)
// to the gateway's structured log instead of plain lines on stderr.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...))
}
