package routing

import (
	"reflect"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestAssignBatch(t *testing.T) {
	t.Parallel()
	// Without reservation (see TestReservation for the waiting call with
	// it): rm-ms-01 has room for two chats, rm-ms-02 none; the overflow
	// team is not active yet at t0.
	cfg := DefaultConfig()
	cfg.Reservation.ReserveFor = []conversation.Channel{}
	p := mustCompile(t, cfg)
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) {
		st["rm-ms-01"].Load, st["rm-ms-02"].Load = 50, 100
	})
	var waiting []ConversationView
	for _, id := range []conversation.ConversationID{"c1", "c2", "c3", "c4"} {
		waiting = append(waiting, massConv(id))
	}
	waiting = append(waiting, massConv("c2")) // listed twice
	call := massConv("c0")
	call.Channel = conversation.ChannelVoice
	waiting = append(waiting, call)

	got := Assign(p, snap, waiting, t0)
	type row struct {
		id   conversation.ConversationID
		out  Outcome
		rm   conversation.RMID
		load int
	}
	var rows []row
	for _, d := range got {
		r := row{id: d.ConversationID, out: d.Outcome}
		if d.Choice != nil {
			r.rm, r.load = d.Choice.RMID, d.Choice.LoadBefore
		}
		rows = append(rows, r)
	}
	want := []row{
		{"c0", OutcomeWait, "", 0}, // a call needs 100, rm-ms-01 has 50
		{"c1", OutcomeOffer, "rm-ms-01", 50},
		{"c2", OutcomeOffer, "rm-ms-01", 75},
		{"c3", OutcomeWait, "", 0},
		{"c4", OutcomeWait, "", 0},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("batch\n got %+v\nwant %+v", rows, want)
	}
	if got[3].Sentence != "waiting: no eligible RM among 2 candidates (2 at capacity) at step 2; overflow to team overflow in 1m30s" {
		t.Errorf("wait sentence %q", got[3].Sentence)
	}
	// The snapshot itself is untouched.
	if st, _ := snap.RM("rm-ms-01"); st.Load != 50 {
		t.Errorf("Assign changed the snapshot: load %d", st.Load)
	}
}

func TestAssignEmpty(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	if got := Assign(p, snapWith(t, p, nil, nil), nil, t0); len(got) != 0 {
		t.Errorf("decisions for nobody: %v", got)
	}
}
