package sim

import (
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Defaults of Options.
const (
	// DefaultAnswerDelay is how long an RM takes to accept an offer.
	DefaultAnswerDelay = 3 * time.Second
	// DefaultAwayFor is how long an RM set away for missing offers in a
	// row stays away before a supervisor puts them back.
	DefaultAwayFor = 5 * time.Minute
)

// DefaultDay is the simulated day when Options.Day is zero: Tuesday 2
// June 2026, an ordinary working day (no Hong Kong public holiday), at
// midnight in the teams' time zone.
func DefaultDay(teams []conversation.Team) time.Time {
	loc := time.UTC
	zone := ""
	for i, t := range teams {
		if i == 0 {
			zone = t.TimeZone
		}
		if t.TimeZone != zone {
			zone = ""
			break
		}
	}
	if zone != "" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	return time.Date(2026, time.June, 2, 0, 0, 0, 0, loc)
}

// Options sets the simulated RMs' behaviour and the run. The zero value
// runs with the defaults.
type Options struct {
	// Day is the start of the simulated day: arrivals' At counts from it,
	// and team hours and holidays are read at Day + At. Zero means
	// DefaultDay(teams).
	Day time.Time
	// AnswerDelay is how long an RM takes to accept an offer they do not
	// miss. Zero means DefaultAnswerDelay (3 s); a negative value means at
	// once. An offer whose timeout (routing.Policies.OfferTimeout) is not
	// longer than the delay always expires.
	AnswerDelay time.Duration
	// MissRate is the probability (0..1) that an RM lets an offer expire
	// instead of accepting it, drawn per offer from a source seeded with
	// Seed.
	MissRate float64
	// Seed seeds the random source of MissRate (math/rand/v2 PCG); the same
	// input and seed give the same report.
	Seed uint64
	// ACW is the after-conversation work (wrap-up) that follows each
	// conversation, holding its capacity. Zero means the policies'
	// wrap-up timeout (routing.Policies.WrapUpTimeout); a negative value
	// means none.
	ACW time.Duration
	// AwayFor is how long an RM set away for missing
	// routing.Policies.MaxMissedOffers offers in a row stays away. Zero
	// means DefaultAwayFor (5 min).
	AwayFor time.Duration
	// Progress, when not nil, is called with the number of conversations
	// that have ended (answered and served, abandoned, fallen back or
	// unrouted) and the number of arrivals, each time another 2% have
	// ended, and at the end when the last call did not show the final
	// count. It runs on Run's goroutine.
	Progress func(done, total int)
}

// resolved returns the options with defaults applied, or an error wrapping
// ErrInvalidOptions.
func (o Options) resolved(teams []conversation.Team, wrapUp time.Duration) (Options, error) {
	if o.MissRate < 0 || o.MissRate > 1 || o.MissRate != o.MissRate {
		return o, fmt.Errorf("sim: miss rate %v: %w (allowed: 0 to 1)", o.MissRate, ErrInvalidOptions)
	}
	if o.Day.IsZero() {
		o.Day = DefaultDay(teams)
	}
	switch {
	case o.AnswerDelay == 0:
		o.AnswerDelay = DefaultAnswerDelay
	case o.AnswerDelay < 0:
		o.AnswerDelay = 0
	}
	switch {
	case o.ACW == 0:
		o.ACW = wrapUp
	case o.ACW < 0:
		o.ACW = 0
	}
	if o.AwayFor < 0 {
		return o, fmt.Errorf("sim: away for %v: %w (allowed: 0 for %v, or more)", o.AwayFor, ErrInvalidOptions, DefaultAwayFor)
	}
	if o.AwayFor == 0 {
		o.AwayFor = DefaultAwayFor
	}
	return o, nil
}
