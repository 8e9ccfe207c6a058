package gateway

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// startLive is start with the liveness lease renewed every `every` and
// lapsing after ttl instead of instanceLeaseRenew and instanceLeaseTTL,
// so that a lost instance is reaped within a second or two.
func startLive(t *testing.T, cfg *configs.Config, logw io.Writer, every, ttl time.Duration) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg.HTTP.DrainDelay = 0
	g, err := New(ctx, cfg, NewLogger(logw, "debug", "json"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	g.live.every, g.live.ttl = every, ttl
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &running{base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1), g: g}
	go func() { r.done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		_ = g.store.Close()
	})
	waitReady(t, r.base)
	return r
}

// kill makes r's instance vanish from the shared store as kill -9 would:
// its store connections are closed at once, so nothing more of it (lease
// renewals, call ends, hang-ups) reaches the store, and no clean-up of
// its runs there. Its goroutines go on until the test's clean-up stops
// them, writing nothing.
func (r *running) kill() { _ = r.g.store.Close() }

// rmLoad is rm's load (cost units held) as r's store has it.
func rmLoad(t *testing.T, r *running, rm conversation.RMID) int {
	t.Helper()
	st, err := r.g.store.RMState(t.Context(), rm)
	if err != nil {
		t.Fatal(err)
	}
	return st.Load
}

// TestReaperEndsWhatALostInstanceHeld: the media of two voice
// conversations is recorded as held by an instance whose lease has lapsed
// (one answered by the RM, one waiting in the queue); the running gateway's
// reaper abandons the first and puts the second in the RM's wrap-up, both
// with the call's end (instance_lost) on the timeline, the RM's capacity
// free, and forgets the lost instance. On the memory store as on Redis.
func TestReaperEndsWhatALostInstanceHeld(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		logs := &syncBuffer{}
		r := startLive(t, cfg, logs, 100*time.Millisecond, time.Second)
		d := newDesk(t, r)
		open := func() string {
			code, c := do(t, "POST", r.base+"/api/v1/conversations", d.admin, map[string]any{"customer_id": demoCustomer, "channel": "voice"})
			if code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, c)
			}
			id := c["id"].(string)
			if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+id+"/route", d.admin, nil); code != http.StatusOK {
				t.Fatalf("route: %d %v", code, body)
			}
			return id
		}
		ctx := t.Context()
		answered := open()
		if got := d.acceptOffer(); got != answered {
			t.Fatalf("accepted %s, want %s", got, answered)
		}
		// A second call waits: the RM's capacity is taken by the first.
		held := rmLoad(t, r, demoRM)
		waiting := open()
		const ghost = "gw-ghost/0001"
		if err := r.g.store.RenewInstance(ctx, ghost, time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{answered, waiting} {
			if err := r.g.store.AddHolding(ctx, ghost, conversation.ConversationID(id)); err != nil {
				t.Fatal(err)
			}
		}
		c := d.waitStatus(answered, conversation.StatusWrapUp, demoRM)
		if !hasCallEnded(c, "instance_lost") {
			t.Errorf("the answered call's end is not on its timeline: %v", c["events"])
		}
		c = d.waitStatus(waiting, conversation.StatusAbandoned, "")
		if !hasCallEnded(c, "instance_lost") {
			t.Errorf("the waiting call's end is not on its timeline: %v", c["events"])
		}
		waitFor(t, "the lost instance forgotten and the RM's capacity free", func() bool {
			lost, err := r.g.store.LostInstances(ctx, time.Now(), 0)
			return err == nil && len(lost) == 0 && rmLoad(t, r, demoRM) == 0
		})
		if held == 0 {
			t.Error("the answered call held no capacity before it was lost")
		}
		// The RM's wrap-up ends as any: with a disposition.
		if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+answered+"/close", d.rm, map[string]any{"disposition": "resolved"}); code != http.StatusOK {
			t.Fatalf("close after the loss: %d %v", code, body)
		}
	})
}

// TestVoiceCallsOfAKilledInstance: two gateways share one Redis. The
// trunk's calls arrive at instance A: the first is answered by rm-pb-01
// (accepted through B, bridged by A to the RM's sipp phone, audio both
// ways), the second waits in the queue. A is then killed (its store
// connections cut: no lease renewal, no hang-up recorded). Within the
// lease time and a margin B's reaper puts the answered call in the RM's
// wrap-up and abandons the waiting one, each with call_ended
// instance_lost on its timeline; the RM's capacity is free, so a new call
// arriving at B is offered to them.
func TestVoiceCallsOfAKilledInstance(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	u := testRedisURL(t)
	prefix := "{abtest-lost-" + strings.ToLower(rand.Text()[:12]) + "}"
	t.Cleanup(func() { statetest.PurgeRedisURL(t, u, prefix) })
	const every, ttl = 200 * time.Millisecond, 2 * time.Second
	instance := func(name string) (*running, *syncBuffer) {
		cfg := configs.Default()
		cfg.Redis.URL, cfg.Redis.KeyPrefix = u, prefix
		cfg.Secrets.JWTSecret = testSecret
		cfg.InstanceID = name
		voiceConfig(cfg)
		logs := &syncBuffer{}
		t.Cleanup(func() {
			if t.Failed() {
				out := logs.String()
				if len(out) > 8000 {
					out = out[len(out)-8000:]
				}
				t.Logf("%s logs:\n%s", name, out)
			}
		})
		return startLive(t, cfg, logs, every, ttl), logs
	}
	a, _ := instance("voice-a")
	b, bLogs := instance("voice-b")
	registerPhone(t, a.sipAddr())
	d := newDesk(t, b)

	first := placeCall(t, a.sipAddr())
	first.waitMusic()
	answered := d.acceptOffer()
	if back := first.talk(callerAudio, callerEcho, 10); back < 10 {
		t.Fatalf("%d frames came back through the phone, want 10", back)
	}
	second := placeCall(t, a.sipAddr())
	second.waitMusic()
	var waiting string
	waitFor(t, "the second call's conversation", func() bool {
		for _, it := range d.conversations() {
			if c := it.(map[string]any); c["id"] != answered && c["status"] == string(conversation.StatusQueued) {
				waiting = c["id"].(string)
			}
		}
		return waiting != ""
	})

	killed := time.Now()
	a.kill()
	c := d.waitStatus(answered, conversation.StatusWrapUp, demoRM)
	if !hasCallEnded(c, "instance_lost") {
		t.Errorf("the answered call's end is not on its timeline: %v", c["events"])
	}
	c = d.waitStatus(waiting, conversation.StatusAbandoned, "")
	if !hasCallEnded(c, "instance_lost") {
		t.Errorf("the waiting call's end is not on its timeline: %v", c["events"])
	}
	took := time.Since(killed)
	if took > ttl+3*time.Second {
		t.Errorf("the killed instance's calls ended %v after the kill, want within the lease (%v) and 3 s", took, ttl)
	}
	t.Logf("the killed instance's calls ended %v after the kill (lease %v, renewed every %v)", took.Round(10*time.Millisecond), ttl, every)
	if load := rmLoad(t, b, demoRM); load != 0 {
		t.Fatalf("rm-pb-01 still holds %d after the loss", load)
	}
	if !strings.Contains(bLogs.String(), `"msg":"instance lost: its calls and rooms ended"`) {
		t.Error("B did not log the lost instance")
	}

	// The RM's capacity is free: a call arriving at B is offered to them.
	third := placeCall(t, b.sipAddr())
	third.waitMusic()
	waitFor(t, "the new call offered to "+demoRM, func() bool {
		code, list := do(t, "GET", b.base+"/api/v1/offers", d.rm, nil)
		items, _ := list["items"].([]any)
		return code == http.StatusOK && len(items) == 1 && items[0].(map[string]any)["conversation_id"] != answered
	})
}
