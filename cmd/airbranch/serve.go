package main

import (
	"context"
	"flag"
	"fmt"
	"io"

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
	g, err := gateway.New(ctx, cfg, log)
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
