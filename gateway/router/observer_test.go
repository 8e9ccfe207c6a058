package router

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// recorder is an Observer that writes down what it is told, one line each.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.lines = append(r.lines, s); r.mu.Unlock() }

func (r *recorder) Offered(_ context.Context, o conversation.Offer, c conversation.Conversation) {
	r.add("offered " + string(o.RMID) + " " + string(c.Status))
}

func (r *recorder) Changed(_ context.Context, c conversation.Conversation, evs []conversation.Event, rms []conversation.RMID) {
	var types []string
	for _, e := range evs {
		types = append(types, string(e.Type))
	}
	ids := make([]string, len(rms))
	for i, rm := range rms {
		ids[i] = string(rm)
	}
	first := ""
	if len(types) > 0 {
		first = types[0]
	}
	r.add("changed " + string(c.Status) + " " + first + " rms=" + strings.Join(ids, ","))
}

func (r *recorder) PresenceChanged(_ context.Context, p conversation.Presence) {
	r.add("presence " + string(p.RMID) + " " + string(p.State) + " " + p.Reason)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// The observer hears of the offer, the accept (by the RM who took it),
// a decline and the RM's presence, each after it is committed.
func TestObserverHearsOffersChangesAndPresence(t *testing.T) {
	f := newFixture(t, state.NewMemory())
	rec := &recorder{}
	f.r.observer = rec
	f.available(t, "rm-pb-01", "rm-pb-02")
	c := f.open(t, "cus-pb-0001", conversation.ChannelWebChat)
	f.evaluate(t)
	o, ok := f.offerOf(t, c.ID)
	if !ok || o.RMID != "rm-pb-01" {
		t.Fatalf("offer %+v, want one to the own RM", o)
	}
	if err := f.r.Decline(f.ctx, o.ID, "rm-pb-01", "in a meeting"); err != nil {
		t.Fatal(err)
	}
	f.evaluate(t)
	o2, _ := f.offerOf(t, c.ID)
	if _, err := f.r.Accept(f.ctx, o2.ID, o2.RMID); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	want := []string{
		"presence rm-pb-01 available ",
		"presence rm-pb-02 available ",
		"changed queued status_changed rms=",
		"offered rm-pb-01 offered",
		"changed queued decline rms=rm-pb-01",
		"offered rm-pb-02 offered",
		"changed active accept rms=rm-pb-02",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("observer heard\n%q\nwant\n%q", got, want)
	}

	// Missed offers set the RM away: the presence change is heard.
	// Default: away after 3 missed offers in a row.
	for i := 0; i < 3; i++ {
		d := f.open(t, "cus-pb-0001", conversation.ChannelSMS)
		f.evaluate(t)
		if o, ok := f.offerOf(t, d.ID); !ok || o.RMID != "rm-pb-01" {
			t.Fatalf("missed offer %d went to %+v", i, o)
		}
		f.clk.Advance(time.Minute)
		f.evaluate(t)
		_, _ = f.r.Abandon(f.ctx, d.ID)
	}
	if lines := rec.take(); !slices.Contains(lines, "presence rm-pb-01 away not_responding") {
		t.Fatalf("no away presence heard after 3 missed offers:\n%q", lines)
	}
}
