package routing

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestReservationRecord checks what the records say: the waiting call's
// decision names its reserved RM, and a chat passed over names the call.
func TestReservationRecord(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, loads(50, 75))
	got := Assign(p, snap, []ConversationView{massCall("call", 10*time.Second), chatAt("ch1", 0), chatAt("ch2", 0)}, t0)
	call, ch2 := got[0], got[2]
	if want := (Reservation{RMID: "rm-ms-01", Step: 2, Load: 50, Capacity: 100, Cost: 100}); call.Reserved == nil || *call.Reserved != want {
		t.Errorf("reserved = %+v, want %+v", call.Reserved, want)
	}
	if want := "waiting: no eligible RM among 2 candidates (2 at capacity) at step 2; rm-ms-01 reserved (50/100 → draining); overflow to team overflow in 1m20s"; call.Sentence != want {
		t.Errorf("call sentence\n got %q\nwant %q", call.Sentence, want)
	}
	if want := "waiting: no eligible RM among 2 candidates (1 at capacity, 1 reserved for another conversation) at step 2; overflow to team overflow in 1m30s"; ch2.Sentence != want {
		t.Errorf("chat sentence\n got %q\nwant %q", ch2.Sentence, want)
	}
	c, ok := ch2.Candidate("rm-ms-01")
	if !ok || c.Failed != set(FilterReserved) || c.Note != "reserved for call (waiting voice)" || c.Load != 50 {
		t.Errorf("chat's candidate rm-ms-01 = %+v, %v", c, ok)
	}
	b, err := json.Marshal(call)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reserved":{"rm_id":"rm-ms-01","step":2,"load":50,"capacity":100,"cost":100}`) {
		t.Errorf("call record JSON lacks the reservation: %s", b)
	}
	if b, _ := json.Marshal(ch2); !strings.Contains(string(b), `"filtered":{"capacity":1,"reserved":1}`) || !strings.Contains(string(b), `"failed":["reserved"],"presence":"available","load":50,"capacity":100,"note":"reserved for call (waiting voice)"`) {
		t.Errorf("chat record JSON lacks the reserved filter: %s", b)
	}
}

// TestReservedOwnRM: a private-bank call reserves its own RM, who is also
// the own RM of a chatting client; that client's record says why they wait
// for their RM.
func TestReservedOwnRM(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) { st["rm-pb-01"].Load = 25 })
	call := privateConv()
	call.ID, call.QueuedAt = "pb-call", t0.Add(-5*time.Second)
	chat := privateConv()
	chat.ID, chat.CustomerID, chat.Channel = "pb-chat", "cus-pb-2", conversation.ChannelWebChat
	got := Assign(p, snap, []ConversationView{chat, call}, t0)
	if want := "own RM rm-pb-01 at capacity (25/100, needs 100); waiting: no eligible RM among 1 candidate (1 at capacity) at step 1; own RM rm-pb-01 reserved (25/100 → draining); step 2 (deputy) joins in 15s"; got[0].Sentence != want {
		t.Errorf("call sentence\n got %q\nwant %q", got[0].Sentence, want)
	}
	if r := got[0].Reserved; r == nil || r.Role != RoleOwnRM {
		t.Errorf("reserved = %+v", r)
	}
	if want := "own RM rm-pb-01 reserved for pb-call (waiting voice); waiting: no eligible RM among 1 candidate (1 reserved for another conversation) at step 1; step 2 (deputy) joins in 20s"; got[1].Sentence != want {
		t.Errorf("chat sentence\n got %q\nwant %q", got[1].Sentence, want)
	}
	if d := got[1]; d.Outcome != OutcomeWait || d.Reserved != nil {
		t.Errorf("chat outcome %s, reserved %+v", d.Outcome, d.Reserved)
	}
}

// TestDecideSeesNoReservation documents that Decide decides one
// conversation alone: it neither reserves nor sees the reservations of an
// Assign batch.
func TestDecideSeesNoReservation(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, loads(50, 100))
	call, chat := massCall("call", 10*time.Second), chatAt("ch1", 0)
	batch := Assign(p, snap, []ConversationView{call, chat}, t0)
	if rows, want := rowsOf(batch), []resRow{{id: "call", out: OutcomeWait, reserved: "rm-ms-01"}, {id: "ch1", out: OutcomeWait}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("batch %+v, want %+v", rows, want)
	}
	if d := Decide(p, snap, call, t0); d.Outcome != OutcomeWait || d.Reserved != nil || strings.Contains(d.Sentence, "reserved") {
		t.Errorf("Decide of the call: %s, reserved %+v: %s", d.Outcome, d.Reserved, d.Sentence)
	}
	if d := Decide(p, snap, chat, t0); d.Outcome != OutcomeOffer || d.Choice.RMID != "rm-ms-01" {
		t.Errorf("Decide of the chat alone: %s", d.Sentence)
	}
	if c, _ := Check(p, snap, chat, "rm-ms-01", t0); c.Failed != 0 {
		t.Errorf("Check fails %v", c.Failed)
	}
}

// TestReservationMinWaitWakes: a call blocked by capacity before min_wait
// asks to be decided again when it may reserve.
func TestReservationMinWaitWakes(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Reservation.MinWait = 30 * time.Second
	p := mustCompile(t, cfg)
	snap := snapWith(t, p, nil, loads(50, 75))
	d := Assign(p, snap, []ConversationView{massCall("call", 10*time.Second)}, t0)[0]
	if want := t0.Add(20 * time.Second); !d.NextChange.Equal(want) {
		t.Errorf("next change %v, want %v", d.NextChange, want)
	}
	if want := "waiting: no eligible RM among 2 candidates (2 at capacity) at step 2; reserves an RM in 20s if still blocked by capacity"; d.Sentence != want {
		t.Errorf("sentence\n got %q\nwant %q", d.Sentence, want)
	}
	// Blocked by something else than capacity, it has nothing to wake for.
	away := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) {
		st["rm-ms-01"].Presence.State, st["rm-ms-02"].Presence.State = conversation.PresenceAway, conversation.PresenceAway
	})
	if d := Assign(p, away, []ConversationView{massCall("call", 10*time.Second)}, t0)[0]; !d.NextChange.Equal(t0.Add(80 * time.Second)) {
		t.Errorf("next change %v, want the overflow at %v", d.NextChange, t0.Add(80*time.Second))
	}
}

func TestReservationConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    ReservationConfig
		wantErr []string
	}{
		{name: "absent: voice and video at once", yaml: "record: full\n", want: ReservationConfig{ReserveFor: []conversation.Channel{"voice", "video"}}},
		{name: "null: the default", yaml: "reservation: {reserve_for: null}\n", want: ReservationConfig{ReserveFor: []conversation.Channel{"voice", "video"}}},
		{name: "empty list: off", yaml: "reservation: {reserve_for: []}\n", want: ReservationConfig{ReserveFor: []conversation.Channel{}}},
		{name: "channels in canonical order, min wait", yaml: "reservation: {reserve_for: [webchat, video], min_wait: 45s}\n",
			want: ReservationConfig{ReserveFor: []conversation.Channel{"video", "webchat"}, MinWait: 45 * time.Second}},
		{name: "bad channel, duplicate and min wait", yaml: "reservation: {reserve_for: [voice, fax, voice], min_wait: 11m}\n", wantErr: []string{
			`reservation.reserve_for[1]: unknown channel "fax" (allowed: [voice video sms wechat webchat])`,
			`reservation.reserve_for[2]: channel "voice" listed twice`,
			"reservation.min_wait: 11m0s (allowed: 0s..10m0s)",
		}},
		{name: "negative min wait", yaml: "reservation: {min_wait: -1s}\n", wantErr: []string{"reservation.min_wait: -1s (allowed: 0s..10m0s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := decodeStrict(t, []byte(tt.yaml))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			p, err := Compile(cfg, testTeams(), testRMs())
			if len(tt.wantErr) > 0 {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("Compile error %v, want ErrInvalidConfig", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Reservation(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Reservation() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
