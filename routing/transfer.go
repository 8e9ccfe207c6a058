package routing

import (
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TransferState is where a conversation's transfer target stands at a
// decision.
type TransferState string

// Transfer states.
const (
	// TransferActive: the transfer timeout has not passed; only the
	// target team's RMs are candidates.
	TransferActive TransferState = "active"
	// TransferLapsed: the transfer timeout passed without an RM of the
	// team taking the conversation; the policy applies from its first
	// step, started at TransferRecord.Until.
	TransferLapsed TransferState = "lapsed"
	// TransferUnknownTeam: the target team is not in the snapshot; the
	// target is ignored and the policy applies from its first step,
	// started at the transfer.
	TransferUnknownTeam TransferState = "unknown_team"
	// TransferTeamClosed: the target team is closed at the decision's
	// time (working hours, holidays); the target is skipped, taking no
	// time, as a personal step is, and the policy applies from its first
	// step, started at the transfer.
	TransferTeamClosed TransferState = "team_closed"
)

// TransferRecord is a conversation's transfer target as a decision saw it:
// RM By transferred the conversation to Team at At.
type TransferRecord struct {
	Team conversation.TeamID `json:"team"`
	By   conversation.RMID   `json:"by,omitempty"`
	At   time.Time           `json:"at"`
	// Until is when the policy's first step starts: At +
	// Config.TransferTimeout, or At when the target was skipped
	// (unknown team, team closed).
	Until time.Time     `json:"until"`
	State TransferState `json:"state"`
}

// transferTarget returns the record of the conversation's transfer
// target at now, nil when it has none. The target counts from
// TransferredAt, else from QueuedAt, else from now.
func (e *evaluation) transferTarget() *TransferRecord {
	c := e.conv
	if c.TransferTeam == "" {
		return nil
	}
	at := c.TransferredAt
	if at.IsZero() {
		at = c.QueuedAt
	}
	if at.IsZero() {
		at = e.now
	}
	tr := &TransferRecord{Team: c.TransferTeam, By: c.TransferredBy, At: at, Until: at}
	ti, ok := e.snap.teamIdx[c.TransferTeam]
	switch {
	case !ok:
		tr.State = TransferUnknownTeam
	case !e.open(ti):
		tr.State = TransferTeamClosed
	default:
		tr.Until = at.Add(e.p.transferTimeout)
		tr.State = TransferActive
		if !e.now.Before(tr.Until) {
			tr.State = TransferLapsed
		}
	}
	return tr
}

// transferring reports whether only the transfer target's team is
// considered at now.
func (e *evaluation) transferring() bool {
	return e.tr != nil && e.tr.State == TransferActive
}

// policyStart is when the policy's first step starts: when the transfer
// target lets it (TransferRecord.Until), else at a transfer back to the
// queue (TransferredAt), else at QueuedAt, else now.
func (e *evaluation) policyStart() time.Time {
	t := e.conv.QueuedAt
	if t.IsZero() {
		t = e.now
	}
	switch {
	case e.tr != nil:
		return later(t, e.tr.Until)
	case !e.conv.TransferredAt.IsZero():
		return later(t, e.conv.TransferredAt)
	}
	return t
}

// transferClause says what became of the transfer target, e.g.
// "transferred to team wealth_advisers by rm-pb-01".
func transferClause(tr *TransferRecord) string {
	by := ""
	if tr.By != "" {
		by = " by " + string(tr.By)
	}
	switch tr.State {
	case TransferLapsed:
		return fmt.Sprintf("transfer to team %s%s lapsed after %v", tr.Team, by, tr.Until.Sub(tr.At))
	case TransferUnknownTeam:
		return fmt.Sprintf("transfer to unknown team %s%s ignored", tr.Team, by)
	case TransferTeamClosed:
		return fmt.Sprintf("transfer to team %s%s skipped: team closed", tr.Team, by)
	}
	return fmt.Sprintf("transferred to team %s%s", tr.Team, by)
}
