package routing

import (
	"reflect"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// massCall is a mass client calling, queued ago before t0.
func massCall(id conversation.ConversationID, ago time.Duration) ConversationView {
	c := massConv(id)
	c.Channel = conversation.ChannelVoice
	c.QueuedAt = t0.Add(-ago)
	return c
}

// chatAt is a mass web chat queued ago before t0.
func chatAt(id conversation.ConversationID, ago time.Duration) ConversationView {
	c := massConv(id)
	c.QueuedAt = t0.Add(-ago)
	return c
}

// resRow is what the reservation tests check of one decision.
type resRow struct {
	id       conversation.ConversationID
	out      Outcome
	offered  conversation.RMID // Choice.RMID
	reserved conversation.RMID // Reserved.RMID
}

func rowsOf(ds []Decision) []resRow {
	rows := make([]resRow, 0, len(ds))
	for _, d := range ds {
		r := resRow{id: d.ConversationID, out: d.Outcome}
		if d.Choice != nil {
			r.offered = d.Choice.RMID
		}
		if d.Reserved != nil {
			r.reserved = d.Reserved.RMID
		}
		rows = append(rows, r)
	}
	return rows
}

// loads sets the loads of the mass team's RMs.
func loads(ms01, ms02 int) func(map[conversation.RMID]*RMState) {
	return func(st map[conversation.RMID]*RMState) { st["rm-ms-01"].Load, st["rm-ms-02"].Load = ms01, ms02 }
}

func TestReservation(t *testing.T) {
	t.Parallel()
	type states = map[conversation.RMID]*RMState
	off := func(c *Config) { c.Reservation.ReserveFor = []conversation.Channel{} }
	only := func(chs ...conversation.Channel) func(*Config) {
		return func(c *Config) { c.Reservation.ReserveFor = chs }
	}
	video := massCall("video", 10*time.Second)
	video.Channel = conversation.ChannelVideo
	zhCall := massCall("call", 10*time.Second)
	zhCall.Language = "zh"
	tests := []struct {
		name    string
		cfg     func(*Config)
		state   func(states)
		waiting []ConversationView
		at      time.Duration // after t0
		want    []resRow
	}{
		{
			name:    "a call waiting behind chats reserves the RM with the least to drain; a later chat goes to another RM with room",
			state:   loads(50, 75),
			waiting: []ConversationView{chatAt("ch1", 0), massCall("call", 10*time.Second), chatAt("ch2", 0)},
			want: []resRow{
				{id: "call", out: OutcomeWait, reserved: "rm-ms-01"},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-02"},
				{id: "ch2", out: OutcomeWait},
			},
		},
		{
			name:    "control: without reservation the chats take the room the call needs",
			cfg:     off,
			state:   loads(50, 75),
			waiting: []ConversationView{chatAt("ch1", 0), massCall("call", 10*time.Second), chatAt("ch2", 0)},
			want: []resRow{
				{id: "call", out: OutcomeWait},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-01"},
				{id: "ch2", out: OutcomeOffer, offered: "rm-ms-02"},
			},
		},
		{
			name:    "a call with a free RM is offered and reserves nothing",
			state:   loads(0, 75),
			waiting: []ConversationView{massCall("call", 10*time.Second), chatAt("ch1", 0)},
			want: []resRow{
				{id: "call", out: OutcomeOffer, offered: "rm-ms-01"},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-02"},
			},
		},
		{
			name:    "video reserves by default",
			state:   loads(50, 75),
			waiting: []ConversationView{video, chatAt("ch1", 0), chatAt("ch2", 0)},
			want: []resRow{
				{id: "video", out: OutcomeWait, reserved: "rm-ms-01"},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-02"},
				{id: "ch2", out: OutcomeWait},
			},
		},
		{
			name:    "a channel not configured reserves nothing",
			cfg:     only(conversation.ChannelVideo),
			state:   loads(50, 75),
			waiting: []ConversationView{massCall("call", 10*time.Second), chatAt("ch1", 0), chatAt("ch2", 0)},
			want: []resRow{
				{id: "call", out: OutcomeWait},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-01"},
				{id: "ch2", out: OutcomeOffer, offered: "rm-ms-02"},
			},
		},
		{
			name:    "a configured messaging channel reserves too, one RM per conversation",
			cfg:     only(conversation.ChannelWebChat),
			state:   loads(100, 100),
			waiting: []ConversationView{chatAt("ch1", 20*time.Second), chatAt("ch2", 10*time.Second)},
			want: []resRow{
				{id: "ch1", out: OutcomeWait, reserved: "rm-ms-01"},
				{id: "ch2", out: OutcomeWait, reserved: "rm-ms-02"},
			},
		},
		{
			name:    "a second call reserves another RM",
			state:   loads(50, 75),
			waiting: []ConversationView{massCall("call1", 20*time.Second), massCall("call2", 10*time.Second), chatAt("ch1", 0)},
			want: []resRow{
				{id: "call1", out: OutcomeWait, reserved: "rm-ms-01"},
				{id: "call2", out: OutcomeWait, reserved: "rm-ms-02"},
				{id: "ch1", out: OutcomeWait},
			},
		},
		{
			name: "a call blocked by language and presence reserves nothing",
			state: func(st states) {
				loads(50, 75)(st)
				st["rm-ms-02"].Presence.State = conversation.PresenceAway
			},
			waiting: []ConversationView{zhCall, chatAt("ch1", 0)},
			want: []resRow{
				{id: "call", out: OutcomeWait},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-01"},
			},
		},
		{
			name:  "a call blocked by a declined offer reserves nothing",
			state: func(st states) { loads(50, 100)(st); st["rm-ms-02"].Presence.State = conversation.PresenceOffline },
			waiting: func() []ConversationView {
				c := massCall("call", 10*time.Second)
				c.Declined = []conversation.RMID{"rm-ms-01"}
				return []ConversationView{c, chatAt("ch1", 0)}
			}(),
			want: []resRow{
				{id: "call", out: OutcomeWait},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-01"},
			},
		},
		{
			name:    "conversations served before the call in queue order are not held back",
			state:   loads(50, 75),
			waiting: []ConversationView{chatAt("ch0", time.Minute), massCall("call", 10*time.Second), chatAt("ch1", 0)},
			want: []resRow{
				{id: "ch0", out: OutcomeOffer, offered: "rm-ms-01"},
				// rm-ms-01 (now 75) and rm-ms-02 (75) tie on load; rm-ms-02
				// has been idle longer.
				{id: "call", out: OutcomeWait, reserved: "rm-ms-02"},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-01"},
			},
		},
		{
			name: "equal loads: the longest idle RM is reserved",
			state: func(st states) {
				loads(50, 50)(st)
				st["rm-ms-02"].IdleSince = t0.Add(-2 * time.Hour)
			},
			waiting: []ConversationView{massCall("call", 10*time.Second)},
			want:    []resRow{{id: "call", out: OutcomeWait, reserved: "rm-ms-02"}},
		},
		{
			name:    "equal loads and idle times: the smallest RM id is reserved",
			state:   loads(50, 50),
			waiting: []ConversationView{massCall("call", 10*time.Second)},
			want:    []resRow{{id: "call", out: OutcomeWait, reserved: "rm-ms-01"}},
		},
		{
			name: "an RM of a step not yet active is not reserved",
			state: func(st states) {
				loads(50, 75)(st)
				st["rm-ov-01"].Load = 25
			},
			waiting: []ConversationView{massCall("call", 10*time.Second)},
			want:    []resRow{{id: "call", out: OutcomeWait, reserved: "rm-ms-01"}},
		},
		{
			name: "once the overflow team joins, its RM with less to drain is reserved",
			state: func(st states) {
				loads(50, 75)(st)
				st["rm-ov-01"].Load = 25
			},
			waiting: []ConversationView{massCall("call", 10*time.Second)},
			at:      100 * time.Second,
			want:    []resRow{{id: "call", out: OutcomeWait, reserved: "rm-ov-01"}},
		},
		{
			name:    "before min_wait the call reserves nothing",
			cfg:     func(c *Config) { c.Reservation.MinWait = 30 * time.Second },
			state:   loads(50, 75),
			waiting: []ConversationView{massCall("call", 10*time.Second), chatAt("ch1", 0)},
			want: []resRow{
				{id: "call", out: OutcomeWait},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-01"},
			},
		},
		{
			name:    "at min_wait the call reserves",
			cfg:     func(c *Config) { c.Reservation.MinWait = 30 * time.Second },
			state:   loads(50, 75),
			waiting: []ConversationView{massCall("call", 10*time.Second), chatAt("ch1", 0)},
			at:      20 * time.Second,
			want: []resRow{
				{id: "call", out: OutcomeWait, reserved: "rm-ms-01"},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-02"},
			},
		},
		{
			name:    "compact record mode reserves the same RM",
			cfg:     func(c *Config) { c.Record = RecordCompact },
			state:   loads(50, 75),
			waiting: []ConversationView{chatAt("ch1", 0), massCall("call", 10*time.Second), chatAt("ch2", 0)},
			want: []resRow{
				{id: "call", out: OutcomeWait, reserved: "rm-ms-01"},
				{id: "ch1", out: OutcomeOffer, offered: "rm-ms-02"},
				{id: "ch2", out: OutcomeWait},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p := mustCompile(t, cfg)
			snap := snapWith(t, p, nil, tt.state)
			at := t0.Add(tt.at)
			got := Assign(p, snap, tt.waiting, at)
			if rows := rowsOf(got); !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("decisions\n got %+v\nwant %+v", rows, tt.want)
				for _, d := range got {
					t.Logf("%s: %s", d.ConversationID, d.Sentence)
				}
			}
			// Same input, same decisions, whatever the input order.
			reversed := make([]ConversationView, 0, len(tt.waiting))
			for i := len(tt.waiting) - 1; i >= 0; i-- {
				reversed = append(reversed, tt.waiting[i])
			}
			if again := Assign(p, snap, reversed, at); !reflect.DeepEqual(again, got) {
				t.Error("the same queue in another order gives other decisions")
			}
		})
	}
}

// TestReservationDrainsThenOffers runs two routing passes: in the first the
// call reserves rm-ms-01, who is offered nothing more; in the second their
// chats have ended and the call is offered to them, ahead of the chats.
func TestReservationDrainsThenOffers(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	call := massCall("call", 10*time.Second)
	pass1 := Assign(p, snapWith(t, p, nil, loads(50, 75)), []ConversationView{call, chatAt("ch1", 0), chatAt("ch2", 0)}, t0)
	want1 := []resRow{
		{id: "call", out: OutcomeWait, reserved: "rm-ms-01"},
		{id: "ch1", out: OutcomeOffer, offered: "rm-ms-02"},
		{id: "ch2", out: OutcomeWait},
	}
	if rows := rowsOf(pass1); !reflect.DeepEqual(rows, want1) {
		t.Fatalf("pass 1\n got %+v\nwant %+v", rows, want1)
	}
	// 30 s later rm-ms-01's two chats have ended; rm-ms-02 holds four.
	at := t0.Add(30 * time.Second)
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) {
		loads(0, 100)(st)
		st["rm-ms-01"].IdleSince = at
	})
	pass2 := Assign(p, snap, []ConversationView{call, chatAt("ch2", 0), chatAt("ch3", -30*time.Second)}, at)
	want2 := []resRow{
		{id: "call", out: OutcomeOffer, offered: "rm-ms-01"},
		{id: "ch2", out: OutcomeWait},
		{id: "ch3", out: OutcomeWait},
	}
	if rows := rowsOf(pass2); !reflect.DeepEqual(rows, want2) {
		t.Fatalf("pass 2\n got %+v\nwant %+v", rows, want2)
	}
	if ch := pass2[0].Choice; ch.LoadBefore != 0 || ch.Cost != 100 {
		t.Errorf("call offered at load %d for %d", ch.LoadBefore, ch.Cost)
	}
}
