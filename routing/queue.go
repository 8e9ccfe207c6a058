package routing

import (
	"cmp"
	"slices"
	"time"
)

// EffectivePriority returns conversation c's queue priority at now:
//
//	min(Cap, segment priority + c.Priority + PerSecond × seconds waited
//	         + BudgetBoost × min(1, waited / segment wait budget))
//
// (see AgeingConfig). Waiting counts from c.QueuedAt; an unknown segment
// has priority 0 and no wait budget boost.
func (p *Policies) EffectivePriority(c ConversationView, now time.Time) float64 {
	return p.effectivePriority(&c, now)
}

func (p *Policies) effectivePriority(c *ConversationView, now time.Time) float64 {
	waited := now.Sub(c.QueuedAt)
	if c.QueuedAt.IsZero() || waited < 0 {
		waited = 0
	}
	seg := p.segments[c.Segment]
	prio := float64(seg.Priority+c.Priority) + p.ageing.PerSecond*waited.Seconds()
	if within := seg.WaitBudget.Within; within > 0 {
		prio += p.ageing.BudgetBoost * min(1, float64(waited)/float64(within))
	}
	return min(p.ageing.Cap, prio)
}

// Order returns the waiting conversations in the order they are served at
// now: highest effective priority first, then earliest QueuedAt, then
// smallest id. The input is not modified. Because the effective priority is
// capped and every conversation reaches the cap after a bounded wait,
// conversations at the cap are served in arrival order and no segment
// starves.
func Order(p *Policies, waiting []ConversationView, now time.Time) []ConversationView {
	idx := order(p, waiting, now)
	out := make([]ConversationView, len(idx))
	for i, k := range idx {
		out[i] = waiting[k]
	}
	return out
}

// order returns the indexes of waiting in serving order.
func order(p *Policies, waiting []ConversationView, now time.Time) []int {
	prio := make([]float64, len(waiting))
	idx := make([]int, len(waiting))
	for i := range waiting {
		prio[i] = p.effectivePriority(&waiting[i], now)
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ca, cb := &waiting[a], &waiting[b]
		return cmp.Or(
			cmp.Compare(prio[b], prio[a]),
			ca.QueuedAt.Compare(cb.QueuedAt),
			cmp.Compare(ca.ID, cb.ID),
		)
	})
	return idx
}
