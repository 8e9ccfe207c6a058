package statetest

import (
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testPresenceGuard: GuardPresence is a compare-and-set of a presence. A
// lease renewal guarded by the presence as read applies; one guarded by a
// presence that changed since is refused and changes nothing; an RM
// without a stored presence compares as offline with no lease; a guard
// without a valid state is invalid.
func testPresenceGuard(t *testing.T, s state.Store) {
	ctx := t.Context()
	p := conversation.Presence{RMID: "rm-g", State: conversation.PresenceAvailable, Since: at(0), ExpiresAt: at(120_000)}
	must(t, "set", s.Commit(ctx, state.Txn{Now: at(0), Presences: []conversation.Presence{p}}))
	guard := func(st conversation.PresenceState, exp time.Time) state.Guard {
		return state.Guard{Kind: state.GuardPresence, RMID: "rm-g", State: st, ExpiresAt: exp}
	}
	renewed := p
	renewed.ExpiresAt = at(130_000)
	must(t, "renew as read", s.Commit(ctx, state.Txn{Now: at(10_000), Guards: []state.Guard{guard(p.State, p.ExpiresAt)},
		Presences: []conversation.Presence{renewed}}))
	got, err := s.Presence(ctx, "rm-g", at(125_000))
	must(t, "Presence", err)
	equal(t, "lease after the renewal", got.ExpiresAt, at(130_000))

	away := conversation.Presence{RMID: "rm-g", State: conversation.PresenceAway, Reason: "lunch", Since: at(11_000), ExpiresAt: at(131_000)}
	must(t, "set away", s.Commit(ctx, state.Txn{Now: at(11_000), Presences: []conversation.Presence{away}}))
	stale := renewed
	stale.ExpiresAt = at(140_000)
	err = s.Commit(ctx, state.Txn{Now: at(12_000), Guards: []state.Guard{guard(renewed.State, renewed.ExpiresAt)},
		Presences: []conversation.Presence{stale}})
	wantGuardError(t, "renewal after a change", err, state.GuardPresence, "rm-g presence changed: now away")
	got, err = s.Presence(ctx, "rm-g", at(12_000))
	must(t, "Presence", err)
	equal(t, "state kept", got.State, conversation.PresenceAway)

	must(t, "no presence is offline", s.Commit(ctx, state.Txn{Now: at(0),
		Guards: []state.Guard{{Kind: state.GuardPresence, RMID: "rm-none", State: conversation.PresenceOffline}}}))
	err = s.Commit(ctx, state.Txn{Now: at(0), Guards: []state.Guard{{Kind: state.GuardPresence, RMID: "rm-g"}}})
	wantErr(t, "a presence guard without a state", err, conversation.ErrInvalid)
}
