package routing

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestEffectivePriority(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	conv := func(seg conversation.Segment, base int) ConversationView {
		return ConversationView{ID: "c", Segment: seg, Priority: base, QueuedAt: t0}
	}
	tests := []struct {
		name   string
		conv   ConversationView
		waited time.Duration
		want   float64
	}{
		{"private just queued", conv(conversation.SegmentPrivate, 0), 0, 60},
		{"private halfway through its 20s budget", conv(conversation.SegmentPrivate, 0), 10 * time.Second, 60 + 10 + 20},
		{"private at its budget", conv(conversation.SegmentPrivate, 0), 20 * time.Second, 60 + 20 + 40},
		{"private reaches the cap", conv(conversation.SegmentPrivate, 0), 100 * time.Second, 200},
		{"private stays at the cap", conv(conversation.SegmentPrivate, 0), time.Hour, 200},
		{"mass just queued", conv(conversation.SegmentMass, 0), 0, 10},
		{"mass halfway through its 60s budget", conv(conversation.SegmentMass, 0), 30 * time.Second, 10 + 30 + 20},
		{"mass past its budget keeps the full boost", conv(conversation.SegmentMass, 0), 90 * time.Second, 10 + 90 + 40},
		{"mass reaches the cap", conv(conversation.SegmentMass, 0), 150 * time.Second, 200},
		{"base priority adds", conv(conversation.SegmentMass, 5), 0, 15},
		{"base priority is capped too", conv(conversation.SegmentMass, 500), 0, 200},
		{"unknown segment ages without a budget", conv("", 0), 30 * time.Second, 30},
		{"queued in the future counts no wait", conv(conversation.SegmentMass, 0), -time.Minute, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.EffectivePriority(tt.conv, t0.Add(tt.waited)); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("EffectivePriority = %g, want %g", got, tt.want)
			}
		})
	}
	never := ConversationView{Segment: conversation.SegmentMass}
	if got := p.EffectivePriority(never, t0); got != 10 {
		t.Errorf("zero QueuedAt: %g, want 10", got)
	}
}

func TestOrder(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	c := func(id conversation.ConversationID, seg conversation.Segment, queuedAgo time.Duration) ConversationView {
		return ConversationView{ID: id, Segment: seg, QueuedAt: t0.Add(-queuedAgo)}
	}
	tests := []struct {
		name    string
		waiting []ConversationView
		want    []conversation.ConversationID
	}{
		{"segment priority first", []ConversationView{c("m", "mass", 0), c("p", "private", 0), c("a", "affluent", 0)}, []conversation.ConversationID{"p", "a", "m"}},
		{"ageing lifts a waiting mass client over a new private one", []ConversationView{c("p", "private", 0), c("m", "mass", 60*time.Second)}, []conversation.ConversationID{"m", "p"}},
		{"at the cap arrival order decides", []ConversationView{c("p", "private", 5*time.Minute), c("m", "mass", 6*time.Minute)}, []conversation.ConversationID{"m", "p"}},
		{"equal priority: earlier queued first", []ConversationView{c("b", "mass", time.Second), c("a", "mass", 2*time.Second)}, []conversation.ConversationID{"a", "b"}},
		{"equal priority and time: id order", []ConversationView{c("b", "mass", 0), c("a", "mass", 0)}, []conversation.ConversationID{"a", "b"}},
		{"wait budget: affluent near its 30s target passes mass affluent", []ConversationView{c("ma", "mass_affluent", 25*time.Second), c("af", "affluent", 25*time.Second)}, []conversation.ConversationID{"af", "ma"}},
		{"empty", nil, []conversation.ConversationID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := append([]ConversationView(nil), tt.waiting...)
			got := Order(p, tt.waiting, t0)
			ids := make([]conversation.ConversationID, len(got))
			for i, g := range got {
				ids[i] = g.ID
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("order %v, want %v", ids, tt.want)
			}
			if !reflect.DeepEqual(before, tt.waiting) {
				t.Error("Order modified its input")
			}
		})
	}
}
