package smpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
)

// TestRefusedBindBackoff: an SMSC refusing binds is retried with a
// backoff that doubles up to RebindMax, each refusal logged at error with
// its command_status; binds are never retried in a tight loop; once the
// SMSC accepts, the provider binds.
func TestRefusedBindBackoff(t *testing.T) {
	tests := []struct {
		name       string
		refuse     data.CommandStatusType
		password   string
		wantStatus string
	}{
		{"SMSC refuses binds", data.ESME_RBINDFAIL, testPassword, "0x0000000D"},
		{"wrong password", data.ESME_ROK, "wrong", "0x0000000E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			smsc := newSMSC(t)
			smsc.RefuseBinds(tt.refuse)
			h := start(t, smsc, func(c *Config) { c.Password = tt.password })
			if err := smsc.Wait(ctx(t), func(s smsctest.State) bool { return len(s.Binds) >= 6 }); err != nil {
				t.Fatal(err)
			}
			binds := smsc.Binds()
			refusals := h.logs.records("smpp bind refused by the SMSC")
			if len(refusals) < 5 {
				t.Fatalf("%d refusals logged for %d binds", len(refusals), len(binds))
			}
			wantBackoff := []time.Duration{20, 40, 80, 160, 160}
			for i, want := range wantBackoff {
				rec := refusals[i]
				if rec["level"] != "ERROR" || rec["command_status"] != tt.wantStatus {
					t.Fatalf("refusal %d logged as %v", i, rec)
				}
				got := time.Duration(rec["backoff"].(float64))
				if got != want*time.Millisecond {
					t.Fatalf("backoff %d = %s, want %s", i, got, want*time.Millisecond)
				}
				// The next attempt came no sooner than half the backoff.
				if gap := binds[i+1].At.Sub(binds[i].At); gap < got/2 {
					t.Fatalf("attempt %d came %s after the previous, backoff %s", i+2, gap, got)
				}
			}
			if h.p.Bound() {
				t.Fatal("Bound while refused")
			}
			smsc.RefuseBinds(data.ESME_ROK)
			if tt.password != testPassword {
				return // the provider keeps its wrong password; it must keep trying
			}
			h.waitBound(t)
		})
	}
}

func TestSendWhileUnbound(t *testing.T) {
	smsc := newSMSC(t)
	smsc.RefuseBinds(data.ESME_RBINDFAIL)
	h := start(t, smsc, func(c *Config) { c.SubmitTimeout = 100 * time.Millisecond })
	_, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: "hello"})
	if !errors.Is(err, ErrNotBound) || !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("send while unbound: %v", err)
	}
}

// TestSendHeldUntilBound: a Send made while the SMSC refuses binds waits
// for the bind (up to SubmitTimeout) and goes out once it is up.
func TestSendHeldUntilBound(t *testing.T) {
	smsc := newSMSC(t)
	smsc.RefuseBinds(data.ESME_RBINDFAIL)
	h := start(t, smsc)
	done := make(chan error, 1)
	go func() {
		_, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: "held until bound"})
		done <- err
	}()
	if err := smsc.Wait(ctx(t), func(s smsctest.State) bool { return len(s.Binds) >= 2 }); err != nil {
		t.Fatal(err)
	}
	smsc.RefuseBinds(data.ESME_ROK)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if subs := smsc.Submits(); len(subs) != 1 || string(subs[0].Payload) != "held until bound" {
		t.Fatalf("submits %+v", subs)
	}
}

// TestRebindAfterDrop drops the SMSC's connections while messages are
// being sent: the provider binds again, and every message, retried while
// Send says unavailable (as the gateway does), reaches the SMSC.
func TestRebindAfterDrop(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	const n = 30
	for i := range n {
		if i == 10 || i == 20 {
			if dropped := h.smsc.DropConnections(); dropped != 1 {
				t.Fatalf("dropped %d connections", dropped)
			}
		}
		h.sendRetrying(t, sms.Outbound{Account: testAcct, To: testNumber, Text: fmt.Sprintf("message %02d", i)})
	}
	seen := map[string]bool{}
	for _, s := range h.smsc.Submits() {
		seen[string(s.Payload)] = true
	}
	for i := range n {
		if !seen[fmt.Sprintf("message %02d", i)] {
			t.Fatalf("message %02d never reached the SMSC", i)
		}
	}
	ok := 0
	for _, b := range h.smsc.Binds() {
		if b.Status == data.ESME_ROK {
			ok++
		}
	}
	if ok != 3 {
		t.Fatalf("%d successful binds, want 3", ok)
	}
	if lost := h.logs.records("smpp link lost"); len(lost) != 2 || lost[0]["level"] != "WARN" {
		t.Fatalf("link losses logged: %v", lost)
	}
}

func TestEnquireLink(t *testing.T) {
	h := start(t, nil, func(c *Config) { c.EnquireLink = 20 * time.Millisecond; c.ReadTimeout = 2 * time.Second })
	h.waitBound(t)
	if err := h.smsc.Wait(ctx(t), func(s smsctest.State) bool { return s.EnquireLinks >= 3 }); err != nil {
		t.Fatal(err)
	}
	if !h.p.Bound() {
		t.Fatal("link dropped while keep-alives flowed")
	}
}

func TestRunLifecycle(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	if err := h.p.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: %v", err)
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if h.p.Bound() {
		t.Fatal("Bound after Run returned")
	}
	if err := h.smsc.Wait(ctx(t), func(s smsctest.State) bool { return !s.Bound }); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Addr: "nohostport", SystemID: strings.Repeat("x", 16), Password: "123456789", Account: "",
		EnquireLink: time.Minute, ReadTimeout: time.Second, RebindMin: time.Minute, RebindMax: time.Second,
		Window: 300, Throughput: -1, MaxParts: 256, DefaultRegion: "ZZ"}.withDefaults().Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"addr", "system_id", "password", "account", "source_addr", "read_timeout", "rebind_max",
		"window", "throughput", "max_parts", "default_region"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	good := Config{Addr: "127.0.0.1:2775", SystemID: "bank", Account: testAcct}.withDefaults()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.SourceAddr != "85230001234" || good.SourceTON != 1 || good.SourceNPI != 1 || good.Window != DefaultWindow ||
		good.ReadTimeout != 3*DefaultEnquireLink || good.Throughput != DefaultThroughput {
		t.Fatalf("defaults %+v", good)
	}
	if _, err := New(good, nil, nil, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("New without sink: %v", err)
	}
}
