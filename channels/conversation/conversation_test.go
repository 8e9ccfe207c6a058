package conversation

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

func TestTransitions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path []Status
		ok   bool
	}{
		{"main line", []Status{StatusQueued, StatusOffered, StatusActive, StatusWrapUp, StatusClosed}, true},
		{"decline back to queue", []Status{StatusQueued, StatusOffered, StatusQueued, StatusOffered, StatusActive}, true},
		{"abandoned while queued", []Status{StatusQueued, StatusAbandoned}, true},
		{"abandoned while offered", []Status{StatusQueued, StatusOffered, StatusAbandoned}, true},
		{"outbound starts active", []Status{StatusActive, StatusWrapUp, StatusClosed}, true},
		{"fallback closes queued", []Status{StatusQueued, StatusClosed}, true},
		{"skip offer", []Status{StatusQueued, StatusActive}, false},
		{"reopen closed", []Status{StatusQueued, StatusClosed, StatusQueued}, false},
		{"abandon after answer", []Status{StatusQueued, StatusOffered, StatusActive, StatusAbandoned}, false},
		{"wrap-up back to active", []Status{StatusActive, StatusWrapUp, StatusActive}, false},
		{"unknown status", []Status{Status("parked")}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Customer{ID: "cus-1", Segment: SegmentPrivate}, ChannelVoice, Address{Kind: AddressPhone, Value: "+85255501234"}, t0)
			var err error
			for i, s := range tc.path {
				before := c
				if err = c.Transition(s, t0.Add(time.Duration(i+1)*time.Second)); err != nil {
					if !errors.Is(err, ErrIllegalTransition) {
						t.Fatalf("error %v does not wrap ErrIllegalTransition", err)
					}
					if c.Status != before.Status || c.UpdatedAt != before.UpdatedAt {
						t.Fatalf("failed transition changed the conversation")
					}
					break
				}
			}
			if (err == nil) != tc.ok {
				t.Fatalf("path %v: err = %v, want ok=%v", tc.path, err, tc.ok)
			}
		})
	}
}

func TestTransitionTimestamps(t *testing.T) {
	t.Parallel()
	c := New(Customer{ID: "cus-1", Segment: SegmentMass}, ChannelSMS, Address{Kind: AddressPhone, Value: "+85255501234"}, t0)
	step := func(s Status, sec int) {
		t.Helper()
		if err := c.Transition(s, t0.Add(time.Duration(sec)*time.Second+1234567*time.Nanosecond)); err != nil {
			t.Fatal(err)
		}
	}
	step(StatusQueued, 1)
	step(StatusOffered, 2)
	step(StatusQueued, 3)
	step(StatusOffered, 4)
	step(StatusActive, 5)
	step(StatusWrapUp, 6)
	step(StatusClosed, 7)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec)*time.Second + time.Millisecond) }
	checks := map[string][2]time.Time{
		"queued":        {c.QueuedAt, at(1)},
		"first offered": {c.FirstOfferedAt, at(2)},
		"answered":      {c.AnsweredAt, at(5)},
		"ended":         {c.EndedAt, at(6)},
		"closed":        {c.ClosedAt, at(7)},
	}
	for name, v := range checks {
		if !v[0].Equal(v[1]) {
			t.Errorf("%s at %v, want %v (ms precision)", name, v[0], v[1])
		}
	}
}

func TestEscalateKeepsID(t *testing.T) {
	t.Parallel()
	c := New(Customer{ID: "cus-1", Segment: SegmentPrivate}, ChannelWebChat, Address{Kind: AddressApp, Value: "app-42"}, t0)
	id := c.ID
	if err := c.Escalate(ChannelVideo, Address{Kind: AddressApp, Value: "app-42"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.Channel != ChannelVideo || len(c.ChannelHistory) != 1 || c.ChannelHistory[0].From != ChannelWebChat {
		t.Fatalf("escalation: %+v", c)
	}
	if err := c.Escalate(ChannelVideo, c.Address, t0); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("escalate to same channel: %v", err)
	}
	if err := c.Escalate("fax", c.Address, t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("escalate to unknown channel: %v", err)
	}
}

func TestParticipants(t *testing.T) {
	t.Parallel()
	c := New(Customer{ID: "cus-1", Segment: SegmentPrivate}, ChannelVideo, Address{Kind: AddressApp, Value: "app-42"}, t0)
	c.Join(RoleRM, "rm-pb-01", t0)
	c.Join(RoleRM, "rm-pb-01", t0) // idempotent
	c.Join(RoleSpecialist, "pm-01", t0)
	if len(c.Participants) != 3 {
		t.Fatalf("participants: %+v", c.Participants)
	}
	if !c.Leave(RoleSpecialist, "pm-01", t0.Add(time.Minute)) || c.HasParticipant("pm-01") {
		t.Fatal("leave did not take")
	}
	if c.Leave(RoleSpecialist, "pm-01", t0) {
		t.Fatal("second leave reported a present participant")
	}
}

func TestMessageAdvance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		steps   []DeliveryStatus
		want    DeliveryStatus
		changed []bool
	}{
		{"in order", []DeliveryStatus{DeliverySent, DeliveryDelivered, DeliveryRead}, DeliveryRead, []bool{true, true, true}},
		{"out of order receipt", []DeliveryStatus{DeliveryDelivered, DeliverySent}, DeliveryDelivered, []bool{true, false}},
		{"failed before delivery", []DeliveryStatus{DeliverySent, DeliveryFailed, DeliveryDelivered}, DeliveryFailed, []bool{true, true, false}},
		{"failed after delivery ignored", []DeliveryStatus{DeliveryDelivered, DeliveryFailed}, DeliveryDelivered, []bool{true, false}},
		{"duplicate", []DeliveryStatus{DeliverySent, DeliverySent}, DeliverySent, []bool{true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Message{ID: "m1", Status: DeliveryQueued}
			for i, s := range tc.steps {
				changed, err := m.Advance(s, "30003", t0)
				if err != nil {
					t.Fatal(err)
				}
				if changed != tc.changed[i] {
					t.Fatalf("step %d (%s): changed=%v", i, s, changed)
				}
			}
			if m.Status != tc.want {
				t.Fatalf("status %s, want %s", m.Status, tc.want)
			}
			if (m.Status == DeliveryFailed) != (m.ErrorCode == "30003") {
				t.Fatalf("error code %q with status %s", m.ErrorCode, m.Status)
			}
		})
	}
	m := Message{ID: "m1", Status: DeliveryQueued}
	if _, err := m.Advance("bounced", "", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown status: %v", err)
	}
}

func TestUUIDv7Sortable(t *testing.T) {
	t.Parallel()
	prev := NewUUIDv7(t0)
	for i := 1; i < 2000; i++ {
		id := NewUUIDv7(t0.Add(time.Duration(i) * 300 * time.Microsecond))
		if len(id) != 36 || id[14] != '7' || (id[19] < '8' || id[19] > 'b') {
			t.Fatalf("not a UUIDv7: %s", id)
		}
		if id <= prev {
			t.Fatalf("not sortable: %s after %s", id, prev)
		}
		prev = id
	}
}

func TestMasking(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, got, want string }{
		{"phone", MaskPhone("+85255501234"), "+852****1234"},
		{"short phone", MaskPhone("12345"), "***45"},
		{"openid", MaskOpaque("oJlus55nABCDEFxyz"), "oJl…yz"},
		{"short opaque", MaskOpaque("abc"), "…"},
		{"text", MaskText("你好 world"), "[text 8 runes]"},
		{"address string", Address{Kind: AddressPhone, Value: "+85255501234"}.String(), "phone:+852****1234"},
		{"wechat address", Address{Kind: AddressWeChat, Value: "oJlus55nABCDEFxyz"}.String(), "wechat_openid:oJl…yz"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestAddressValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a  Address
		ok bool
	}{
		{Address{AddressPhone, "+85255501234"}, true},
		{Address{AddressPhone, "55501234"}, false},
		{Address{AddressPhone, "+0123456789"}, false},
		{Address{AddressWeChat, "oJlus55n"}, true},
		{Address{AddressWeChat, " "}, false},
		{Address{"email", "a@b"}, false},
	}
	for _, tc := range cases {
		if err := tc.a.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s %s: err=%v want ok=%v", tc.a.Kind, tc.a.Masked(), err, tc.ok)
		}
	}
}

func TestPresenceLease(t *testing.T) {
	t.Parallel()
	p := Presence{RMID: "rm-1", State: PresenceAvailable, Since: t0, ExpiresAt: t0.Add(30 * time.Second)}
	if got := p.At(t0.Add(29 * time.Second)); got.State != PresenceAvailable {
		t.Fatalf("before expiry: %s", got.State)
	}
	if got := p.At(t0.Add(30 * time.Second)); got.State != PresenceOffline {
		t.Fatalf("at expiry: %s", got.State)
	}
}

func TestNewKeepsSubMillisecondOrder(t *testing.T) {
	t.Parallel()
	cust := Customer{ID: "cus-1", Segment: SegmentMass}
	a := New(cust, ChannelSMS, Address{}, t0.Add(100*time.Microsecond))
	b := New(cust, ChannelSMS, Address{}, t0.Add(700*time.Microsecond))
	if a.ID >= b.ID {
		t.Fatalf("ids within one millisecond out of order: %s >= %s", a.ID, b.ID)
	}
	if !a.CreatedAt.Equal(t0) {
		t.Fatalf("created at %v, want ms precision %v", a.CreatedAt, t0)
	}
}
