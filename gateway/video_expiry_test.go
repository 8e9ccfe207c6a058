package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/configs"
)

// TestVideoScheduledSessionExpires: two sessions are scheduled; the RM
// joins one of them. When every invitation has expired, the sweep
// abandons the unused one (its conversation goes new → abandoned and its
// room ends) and leaves the used one and its room alone; a sweep before
// the expiry changes nothing.
func TestVideoScheduledSessionExpires(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	r := start(t, cfg, &syncBuffer{})
	rm := rmToken(t, testSecret, demoRM, demoRMTeam)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	schedule := func() (string, string) {
		t.Helper()
		code, body := do(t, "POST", r.base+"/api/v1/video/sessions", rm, map[string]any{"customer_id": demoCustomer})
		if code != http.StatusCreated {
			t.Fatalf("schedule: %d %v", code, body)
		}
		return body["conversation_id"].(string), body["organiser"].(map[string]any)["token"].(string)
	}
	unused, _ := schedule()
	used, orgTok := schedule()
	c := dialVideo(t, r.base, demoRM, orgTok)
	c.await(ctx, video.TypeWelcome)
	c.request(ctx, video.TypeJoin, video.JoinRequest{})
	waitFor(t, "the rm's join on the timeline", func() bool {
		evs, err := r.g.store.Events(ctx, conversation.ConversationID(used))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Type == conversation.EventParticipantJoined {
				return true
			}
		}
		return false
	})

	status := func(id string) conversation.Status {
		t.Helper()
		got, err := r.g.store.Conversation(ctx, conversation.ConversationID(id))
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	roomOpen := func(id string) bool {
		_, err := r.g.video.srv.Participants(video.RoomID(id))
		return err == nil
	}

	r.g.video.sweep(ctx, time.Now())
	if status(unused) != conversation.StatusNew || !roomOpen(unused) {
		t.Fatalf("before the invitations expire: %s, room open %v", status(unused), roomOpen(unused))
	}
	r.g.video.sweep(ctx, time.Now().Add(r.g.video.cfg.InvitationTTL+time.Minute))
	if got := status(unused); got != conversation.StatusAbandoned {
		t.Fatalf("unused session: %s, want abandoned", got)
	}
	waitFor(t, "the unused session's room ended", func() bool { return !roomOpen(unused) })
	// The organiser joined the used one: it is theirs (active), and the
	// sweep leaves it alone.
	waitFor(t, "the used session active with its organiser", func() bool { return status(used) == conversation.StatusActive })
	if !roomOpen(used) {
		t.Fatalf("used session: room closed; want it left alone")
	}
}
