// Command airbranch runs the Airbranch omnichannel interaction gateway.
//
// Usage:
//
//	airbranch [serve] [-config FILE]        run the gateway (default: embedded demo config)
//	airbranch check-config -config FILE     report every problem in FILE and its directory
//	airbranch token -role ROLE -subject ID  print a signed bearer token (demos, tests)
//	airbranch simulate -arrivals FILE.jsonl replay arrivals through routing on a virtual clock
//
// Secrets come from the environment (AIRBRANCH_JWT_SECRET, AIRBRANCH_WECHAT_*,
// AIRBRANCH_TWILIO_*); AIRBRANCH_HTTP_ADDR and AIRBRANCH_REDIS_URL override
// the file.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code: 0 on
// success, 1 on a runtime failure, 2 on bad usage or a bad configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		cmd = "help"
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// After the first signal starts the drain, a second one ends the
		// process at once (the default action).
		context.AfterFunc(ctx, stop)
		return serve(ctx, args, getenv, stderr)
	case "check-config":
		return checkConfig(args, getenv, stdout, stderr)
	case "token":
		return token(args, getenv, stdout, stderr)
	case "simulate":
		return simulate(args, getenv, stdout, stderr)
	case "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "airbranch: unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  airbranch [serve] [-config FILE]          run the gateway (embedded demo configuration when no FILE)
  airbranch check-config [-config FILE]     print every problem in FILE (default: the embedded configuration)
                                            and its directory; exit 1 if any
  airbranch token -role ROLE -subject ID [-team T] [-ttl 8h]
                                            print a signed bearer token (ROLE: rm, supervisor, admin; for an rm
                                            the team comes from the directory)
  airbranch simulate -arrivals FILE.jsonl [-config FILE] [-seed N] [-answer-delay 3s] [-miss-rate 0] [-acw D] [-day DATE] [-progress]
                                            replay arrivals through routing on a virtual clock; print SLA, ASA, AHT,
                                            abandonment per segment and occupancy per team
`)
}

// parse parses flags of a subcommand, printing errors to stderr; it returns
// false (exit 2) on bad usage and on -h.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "airbranch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}
