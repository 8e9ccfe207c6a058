package gateway

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// TestVideoRoomOfAKilledInstance: two gateways share one Redis; the RM
// escalates a web chat to video through instance A, which opens the room
// and records it as its own. A is killed (its store connections cut);
// instance B's reaper puts the conversation in the RM's wrap-up, with the
// room's end (media_ended, instance_lost) on its timeline and the RM's
// capacity free.
func TestVideoRoomOfAKilledInstance(t *testing.T) {
	t.Parallel()
	u := testRedisURL(t)
	prefix := "{abtest-vlost-" + strings.ToLower(rand.Text()[:12]) + "}"
	t.Cleanup(func() { statetest.PurgeRedisURL(t, u, prefix) })
	mk := func(name string, video bool) *configs.Config {
		cfg := configs.Default()
		cfg.Redis.URL, cfg.Redis.KeyPrefix = u, prefix
		cfg.Secrets.JWTSecret = testSecret
		cfg.InstanceID = name
		if video {
			cfg.Video.Enabled, cfg.Video.UDPAddr = true, "127.0.0.1:0"
			cfg.Secrets.VideoTokenSecret = "video-test-secret-of-at-least-32-bytes!"
		}
		return cfg
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			out := logs.String()
			if len(out) > 8000 {
				out = out[len(out)-8000:]
			}
			t.Logf("logs:\n%s", out)
		}
	})
	a := startLive(t, mk("video-a", true), logs, 100*time.Millisecond, time.Second)
	b := startLive(t, mk("video-b", false), io.Discard, 100*time.Millisecond, time.Second)
	d := newDesk(t, a)
	code, c := do(t, "POST", a.base+"/api/v1/conversations", d.admin, map[string]any{"customer_id": demoCustomer, "channel": "webchat", "intent": "wealth"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, c)
	}
	if code, body := do(t, "POST", a.base+"/api/v1/conversations/"+c["id"].(string)+"/route", d.admin, nil); code != http.StatusOK {
		t.Fatalf("route: %d %v", code, body)
	}
	id := d.acceptOffer()
	dd := websocket.Dialer{Subprotocols: []string{desk.Subprotocol, "bearer." + d.rm}}
	conn, res, err := dd.Dial("ws"+strings.TrimPrefix(a.base, "http")+desk.Path, nil)
	if err != nil {
		t.Fatalf("dial desk: %v (%v)", err, res)
	}
	defer conn.Close()
	if err := conn.WriteJSON(desk.Frame{V: 1, Type: "escalate", ID: "e-1", Data: json.RawMessage(`{"conversation_id":"` + id + `","channel":"video"}`)}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	waitFor(t, "the room recorded as A's", func() bool {
		held, err := a.g.store.Holdings(ctx, a.g.live.id)
		return err == nil && slices.Contains(held, conversation.ConversationID(id))
	})
	if load := rmLoad(t, b, demoRM); load == 0 {
		t.Fatal("the video conversation holds no capacity")
	}

	a.kill()
	bd := &apiDesk{t: t, base: b.base, rm: d.rm, admin: d.admin}
	got := bd.waitStatus(id, conversation.StatusWrapUp, demoRM)
	lost := false
	for _, e := range got["events"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == string(conversation.EventMediaEnded) && ev["reason"] == "instance_lost" {
			lost = true
		}
	}
	if !lost {
		t.Errorf("the room's end is not on the timeline: %v", got["events"])
	}
	if load := rmLoad(t, b, demoRM); load != 0 {
		t.Fatalf("rm-pb-01 still holds %d after the loss", load)
	}
}
