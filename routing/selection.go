package routing

import (
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Strategy is how a policy chooses among eligible RMs of the same step.
// Each strategy gives every eligible candidate an integer score, higher
// better; the earliest step wins first, then the highest score, then the
// smallest RM id, so equal inputs always give the same choice.
type Strategy string

// Selection strategies.
const (
	// SelectLongestIdle scores milliseconds since the later of the RM's
	// last offer and IdleSince (the default; fair to RMs).
	SelectLongestIdle Strategy = "longest_idle"
	// SelectLeastOccupied scores -(load × 10000 / capacity): the smallest
	// share of capacity in use wins.
	SelectLeastOccupied Strategy = "least_occupied"
	// SelectHighestProficiency scores the sum of the RM's levels in the
	// conversation's required skills (0 when none are required).
	SelectHighestProficiency Strategy = "highest_proficiency"
	// SelectRoundRobin scores 1 for RM ids after the policy's cursor (the
	// RM last chosen) and 0 for the others: the next RM id after the
	// cursor wins, wrapping around.
	SelectRoundRobin Strategy = "round_robin"
)

// strategies lists every strategy.
var strategies = []Strategy{SelectLongestIdle, SelectLeastOccupied, SelectHighestProficiency, SelectRoundRobin}

// valid reports whether s is one of strategies.
func (s Strategy) valid() bool { return slices.Contains(strategies, s) }

// score ranks eligible RM i under the policy's strategy.
func (e *evaluation) score(i int) int64 {
	r, d := &e.snap.rms[i], &e.dyn[i]
	switch e.pol.selection {
	case SelectLeastOccupied:
		return -int64(d.load) * 10000 / int64(r.capacity)
	case SelectHighestProficiency:
		var sum int64
		for _, s := range e.conv.Skills {
			sum += int64(r.rm.Skills[s.Skill])
		}
		return sum
	case SelectRoundRobin:
		if r.rm.ID > e.cursors[e.pol.ID] {
			return 1
		}
		return 0
	default:
		return int64(e.now.Sub(d.lastActive) / time.Millisecond)
	}
}

// ranked is an eligible candidate as selection compares it.
type ranked struct {
	idx   int
	step  int
	score int64
	id    conversation.RMID
}

// beats reports whether a is chosen over b: earlier step, then higher
// score, then smaller RM id.
func (a ranked) beats(b ranked) bool {
	if a.step != b.step {
		return a.step < b.step
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}
