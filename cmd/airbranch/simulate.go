package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/routing/sim"
)

// simulate runs `airbranch simulate`: it loads and checks the configuration
// and its directory as check-config does, compiles routing, reads the
// arrivals, replays them through the routing code on a virtual clock
// (routing/sim) and prints the report table to stdout. Exit 2 for bad
// usage, a bad configuration or a bad arrivals file (every problem
// printed), 1 if the simulation fails.
func simulate(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	path := fs.String("config", "", "configuration `FILE` (default: the embedded configuration and demo directory)")
	arrivalsPath := fs.String("arrivals", "", "arrivals `FILE` in JSON lines (required), e.g. configs/demo/arrivals-bank-day.jsonl")
	seed := fs.Uint64("seed", 1, "seed of the random source that draws missed offers")
	answer := fs.Duration("answer-delay", sim.DefaultAnswerDelay, "time an RM takes to accept an offer (0s: at once)")
	miss := fs.Float64("miss-rate", 0, "probability (0 to 1) that an RM lets an offer expire")
	acw := fs.Duration("acw", 0, "wrap-up after each conversation (default: routing.wrap_up.timeout; 0s for none)")
	dayFlag := fs.String("day", "2026-06-02", "simulated `DATE` (YYYY-MM-DD), in the teams' time zone")
	progress := fs.Bool("progress", false, "show a progress bar on stderr even when it is not a terminal")
	if !parse(fs, args, stderr) {
		return 2
	}
	if *arrivalsPath == "" {
		fmt.Fprintln(stderr, "airbranch simulate: -arrivals FILE is required")
		fs.Usage()
		return 2
	}
	opts := sim.Options{Seed: *seed, MissRate: *miss, AnswerDelay: *answer, ACW: *acw}
	fs.Visit(func(f *flag.Flag) {
		switch {
		case f.Name == "answer-delay" && *answer == 0:
			opts.AnswerDelay = -1 // at once
		case f.Name == "acw" && *acw == 0:
			opts.ACW = -1 // none
		}
	})
	if *answer < 0 || *acw < 0 || *miss < 0 || *miss > 1 {
		fmt.Fprintln(stderr, "airbranch simulate: -answer-delay and -acw must be 0s or more, -miss-rate from 0 to 1")
		return 2
	}
	cfg, dir, err := configs.Check(*path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: configuration:\n%v\n", err)
		return 2
	}
	p, err := configs.CompileRouting(cfg, dir)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: routing:\n%v\n", err)
		return 2
	}
	ctx := context.Background()
	teams, err := dir.Teams(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: %v\n", err)
		return 1
	}
	rms, err := dir.RMs(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: %v\n", err)
		return 1
	}
	day, err := time.Parse(time.DateOnly, *dayFlag)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: -day %q is not a date (allowed: YYYY-MM-DD such as 2026-06-02)\n", *dayFlag)
		return 2
	}
	opts.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, sim.DefaultDay(teams).Location())
	arrivals, customers, err := readArrivals(ctx, *arrivalsPath, dir)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: arrivals:\n%v\n", err)
		return 2
	}
	if *progress || isTerminal(stderr) {
		opts.Progress = progressBar(stderr)
	}
	rep, err := sim.Run(p, teams, rms, customers, arrivals, opts)
	if opts.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: %v\n", err)
		if errors.Is(err, sim.ErrInvalidArrival) || errors.Is(err, sim.ErrInvalidOptions) {
			return 2
		}
		return 1
	}
	acwText := "routing.wrap_up.timeout (" + p.WrapUpTimeout().String() + ")"
	if opts.ACW != 0 {
		acwText = max(opts.ACW, 0).String()
	}
	fmt.Fprintf(stdout, "%s: %d arrivals on %s; answer delay %v, miss rate %g (seed %d), wrap-up %s\n\n",
		*arrivalsPath, len(arrivals), opts.Day.Format(time.DateOnly), max(opts.AnswerDelay, 0), *miss, *seed, acwText)
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "airbranch simulate: %v\n", err)
		return 1
	}
	return 0
}

// readArrivals reads the arrivals file and looks up every customer it
// names in the directory; an unknown customer is an error naming its line.
func readArrivals(ctx context.Context, path string, dir *directory.Static) ([]sim.Arrival, []conversation.Customer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	arrivals, err := sim.ReadArrivals(f, path)
	if err != nil {
		return nil, nil, err
	}
	var customers []conversation.Customer
	var errs []error
	for _, a := range arrivals {
		if a.Customer == "" || slices.ContainsFunc(customers, func(c conversation.Customer) bool { return c.ID == a.Customer }) {
			continue
		}
		c, err := dir.Customer(ctx, a.Customer)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: customer: %q is not in the directory (allowed: a customer id of the directory, or none): %w", path, a.Line, a.Customer, sim.ErrInvalidArrival))
			continue
		}
		customers = append(customers, c)
	}
	return arrivals, customers, errors.Join(errs...)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar returns a sim progress callback drawing a bar on w, redrawn
// in place with "\r"; the caller ends the line.
func progressBar(w io.Writer) func(done, total int) {
	const width = 40
	return func(done, total int) {
		if total == 0 {
			return
		}
		filled := done * width / total
		fmt.Fprintf(w, "\rsimulating [%s%s] %3d%% %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/total, done, total)
	}
}
