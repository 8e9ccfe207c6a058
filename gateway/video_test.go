package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/desk"
)

// deskVideo returns the video events of rm's desk stream so far.
func deskVideo(t *testing.T, r *running, rm string) []desk.VideoData {
	t.Helper()
	page, err := r.g.store.StreamEvents(context.Background(), desk.StreamOf(conversation.RMID(rm)), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []desk.VideoData
	for _, e := range page.Items {
		if e.Type == desk.EventVideo {
			var d desk.VideoData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func hasKind(evs []desk.VideoData, kind, identity string) bool {
	for _, d := range evs {
		if d.Kind == kind && (identity == "" || d.Identity == identity) {
			return true
		}
	}
	return false
}

// TestVideoScheduledSession: in the demo, an RM schedules a session with
// a specialist through the API; the client's single-use invitation is
// exchanged once for a join token; the RM (with the organiser's token),
// the specialist and the client join /ws/video as pion participants, the
// client waits in the lobby until the RM admits them, and all three
// exchange audio and video; the client's in-room chat is saved as a
// message of the conversation; the timeline and the RM's desk get the
// room's people; the organiser joining makes the session theirs (active,
// assigned), so they wrap it up and close it; a bad token gets 401 before
// the upgrade and the page is served with its CSP.
func TestVideoScheduledSession(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	r := start(t, cfg, &syncBuffer{})
	rm := rmToken(t, testSecret, demoRM, demoRMTeam)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	code, body := do(t, "POST", r.base+"/api/v1/video/sessions", rm, map[string]any{"customer_id": demoCustomer,
		"invitees": []map[string]any{{"role": "specialist", "identity": "pm-ext-1", "name": "Portfolio manager"}}})
	if code != http.StatusCreated {
		t.Fatalf("schedule: %d %v", code, body)
	}
	convID := body["conversation_id"].(string)
	invs := body["invitations"].([]any)
	if len(invs) != 2 || invs[0].(map[string]any)["role"] != "client" || invs[1].(map[string]any)["role"] != "specialist" {
		t.Fatalf("invitations: %v", invs)
	}
	if code, body := do(t, "POST", r.base+"/api/v1/video/sessions", rm, map[string]any{"customer_id": demoCustomer,
		"invitees": []map[string]any{{"role": "king", "identity": "x"}}}); code != http.StatusBadRequest {
		t.Fatalf("bad role: %d %v", code, body)
	}
	exchange := func(inv any) (string, int) {
		c := inv.(map[string]any)["code"].(string)
		res, err := http.Post(r.base+"/video/invitations/"+c, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var a video.TokenAnswer
		_ = json.NewDecoder(res.Body).Decode(&a)
		return a.Token, res.StatusCode
	}
	clientTok, st := exchange(invs[0])
	if st != http.StatusOK || clientTok == "" {
		t.Fatalf("exchange: %d", st)
	}
	if _, st := exchange(invs[0]); st != http.StatusNotFound {
		t.Fatalf("second exchange: %d, want 404", st)
	}
	specTok, _ := exchange(invs[1])

	res, err := http.Get(r.base + "/ws/video")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d, want 401", res.StatusCode)
	}
	res, err = http.Get(r.base + "/video/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("/video/: %d %v", res.StatusCode, res.Header)
	}

	org := body["organiser"].(map[string]any)["token"].(string)
	rmc := dialVideo(t, r.base, demoRM, org)
	rmc.request(ctx, video.TypeJoin, video.JoinRequest{})
	rmc.publish()
	spec := dialVideo(t, r.base, "pm-ext-1", specTok)
	spec.request(ctx, video.TypeJoin, video.JoinRequest{})
	spec.publish()
	cl := dialVideo(t, r.base, demoCustomer, clientTok)
	var ack video.JoinAck
	_ = json.Unmarshal(cl.request(ctx, video.TypeJoin, video.JoinRequest{}).Data, &ack)
	if ack.State != video.StateLobby {
		t.Fatalf("client join: %+v, want the lobby", ack)
	}
	rmc.await(ctx, video.EventLobby)
	rmc.request(ctx, video.TypeAdmit, video.Target{Identity: demoCustomer})
	cl.await(ctx, video.EventAdmitted)
	cl.publish()
	all := []*videoClient{rmc, spec, cl}
	for _, c := range all {
		var keys []string
		for _, o := range all {
			if o != c {
				keys = append(keys, o.name+"/audio", o.name+"/video")
			}
		}
		if err := c.peer.WaitPackets(ctx, keys, 20); err != nil {
			t.Fatal(err)
		}
	}

	// In-room chat reaches the conversation's messages.
	waitFor(t, "the client's chat channel", func() bool { return cl.dc.ReadyState().String() == "open" })
	raw, _ := json.Marshal(video.ChatIn{ID: "c-1", Text: "Can we review the bond ladder?"})
	if err := cl.dc.SendText(string(raw)); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-rmc.chats:
		if m.Type != "chat" || m.From != demoCustomer {
			t.Fatalf("chat at the rm: %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("the rm got no chat")
	}
	msgs, err := r.g.store.Messages(ctx, conversation.ConversationID(convID), 10)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "Can we review the bond ladder?" || msgs[0].Direction != conversation.Inbound || msgs[0].Channel != conversation.ChannelVideo {
		t.Fatalf("messages: %v %+v", err, msgs)
	}

	// The timeline and the RM's desk know who is in the room.
	waitFor(t, "participant events on the timeline and the desk", func() bool {
		evs, _ := r.g.store.Events(ctx, conversation.ConversationID(convID))
		joined := 0
		for _, e := range evs {
			if e.Type == conversation.EventParticipantJoined && e.Channel == conversation.ChannelVideo {
				joined++
			}
		}
		d := deskVideo(t, r, demoRM)
		return joined == 3 && hasKind(d, desk.VideoRoomOpened, "") && hasKind(d, desk.VideoParticipantLobby, demoCustomer) &&
			hasKind(d, desk.VideoParticipantJoined, demoCustomer)
	})
	// The organiser joining made the session theirs: active, assigned,
	// holding the video cost; they wrap it up and close it as usual.
	waitFor(t, "the organiser is the session's assignee", func() bool {
		c, err := r.g.store.Conversation(ctx, conversation.ConversationID(convID))
		return err == nil && c.Status == conversation.StatusActive && c.AssigneeID == conversation.RMID(demoRM)
	})
	rmc.request(ctx, video.TypeEnd, nil)
	waitFor(t, "room_ended on the desk", func() bool { return hasKind(deskVideo(t, r, demoRM), desk.VideoRoomEnded, "") })
	if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+convID+"/wrap-up", rm, nil); code != http.StatusOK {
		t.Fatalf("wrap-up: %d %v", code, body)
	}
	if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+convID+"/close", rm, map[string]any{"disposition": "resolved"}); code != http.StatusOK {
		t.Fatalf("close: %d %v", code, body)
	}
}

// TestVideoEscalationAndRequest: an RM escalates an active web chat
// conversation to video from the desk (/ws/desk), which opens its room
// and gives the RM, on the same socket, a video event with their join
// link and the client's invitation; a web chat client asks
// for video (POST /video/requests with the chat token): a video
// conversation is opened and routed (offered to the client's own RM) and
// the client gets a join token for its room; on accept the RM's desk gets
// its join link.
func TestVideoEscalationAndRequest(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	r := start(t, cfg, &syncBuffer{})
	d := newDesk(t, r)

	code, c := do(t, "POST", r.base+"/api/v1/conversations", d.admin, map[string]any{"customer_id": demoCustomer, "channel": "webchat", "intent": "wealth"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, c)
	}
	if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+c["id"].(string)+"/route", d.admin, nil); code != http.StatusOK {
		t.Fatalf("route: %d %v", code, body)
	}
	id := d.acceptOffer()
	// The RM escalates from the desk: an escalate frame on /ws/desk.
	dd := websocket.Dialer{Subprotocols: []string{desk.Subprotocol, "bearer." + d.rm}}
	conn, res, err := dd.Dial("ws"+strings.TrimPrefix(r.base, "http")+desk.Path, nil)
	if err != nil {
		t.Fatalf("dial desk: %v (%v)", err, res)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if err := conn.WriteJSON(desk.Frame{V: 1, Type: "escalate", ID: "e-1", Data: json.RawMessage(`{"conversation_id":"` + id + `","channel":"video"}`)}); err != nil {
		t.Fatal(err)
	}
	var opened desk.VideoData
	acked := false
	for !acked || opened.Kind == "" {
		var f desk.Frame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("desk: %v (acked %v, video event %+v)", err, acked, opened)
		}
		switch {
		case f.Type == desk.TypeError:
			t.Fatalf("escalate: %s", f.Data)
		case f.Type == desk.TypeAck && f.ID == "e-1":
			acked = true
		case f.Type == desk.EventVideo:
			var v desk.VideoData
			_ = json.Unmarshal(f.Data, &v)
			if v.Kind == desk.VideoRoomOpened && string(v.ConversationID) == id {
				opened = v
			}
		}
	}
	if opened.Join == nil || opened.Join.Token == "" || opened.Client == nil || opened.Client.Code == "" || !strings.Contains(opened.Client.URL, "/video/#invite=") {
		t.Fatalf("room_opened: %+v", opened)
	}
	if _, err := r.g.video.srv.Participants(video.RoomID(id)); err != nil {
		t.Fatalf("room of the escalated conversation: %v", err)
	}

	// The client asks for video from web chat: the first one is wrapped
	// up and closed (which ends its room) so the RM has capacity.
	if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+id+"/wrap-up", d.rm, nil); code != http.StatusOK {
		t.Fatalf("wrap-up: %d %v", code, body)
	}
	if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+id+"/close", d.rm, map[string]any{"disposition": "resolved"}); code != http.StatusOK {
		t.Fatalf("close: %d %v", code, body)
	}
	waitFor(t, "the escalated room ended with its conversation", func() bool {
		_, err := r.g.video.srv.Participants(video.RoomID(id))
		return err != nil
	})
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": demoAppUser, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "verification": "strong",
	}).SignedString([]byte(DevWebChatSecret))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, "POST", r.base+"/video/requests", "not-a-token", map[string]any{}); code != http.StatusUnauthorized {
		t.Fatalf("request without a valid token: %d", code)
	}
	code, req := do(t, "POST", r.base+"/video/requests", tok, map[string]any{"intent": "wealth"})
	if code != http.StatusCreated || req["token"] == "" || req["conversation_id"] == "" {
		t.Fatalf("video request: %d %v", code, req)
	}
	vid := req["conversation_id"].(string)
	g, err := r.g.video.tokens.Verify(req["token"].(string), time.Now())
	if err != nil || g.Role != video.RoleClient || g.Identity != demoCustomer || string(g.Room) != vid {
		t.Fatalf("client token: %+v %v", g, err)
	}
	if _, err := r.g.video.srv.Participants(video.RoomID(vid)); err != nil {
		t.Fatalf("room of the requested conversation: %v", err)
	}
	if got := d.acceptOffer(); got != vid {
		t.Fatalf("offered %s, want the video conversation %s", got, vid)
	}
	waitFor(t, "the rm's join link after the accept", func() bool {
		for _, e := range deskVideo(t, r, demoRM) {
			if e.Kind == desk.VideoRoomOpened && string(e.ConversationID) == vid && e.Join != nil && e.Join.Token != "" {
				return true
			}
		}
		return false
	})
}

// TestVideoRecordingOnTheTimeline: with recording on and no consent
// required, a scheduled session with two pion participants is recorded
// while they are in the room; when the RM ends the room the conversation's
// timeline has recording_started and recording_stopped, the latter naming
// an Ogg and an IVF file per publisher that exist and hold media, and the
// RM's desk is told.
func TestVideoRecordingOnTheTimeline(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	dir := t.TempDir()
	cfg.Video.Recording = configs.VideoRecordingConfig{Enabled: true, Consent: configs.VideoConsentNotRequired, Dir: dir}
	r := start(t, cfg, &syncBuffer{})
	rm := rmToken(t, testSecret, demoRM, demoRMTeam)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	code, body := do(t, "POST", r.base+"/api/v1/video/sessions", rm, map[string]any{"customer_id": demoCustomer,
		"invitees": []map[string]any{{"role": "specialist", "identity": "pm-ext-1"}}})
	if code != http.StatusCreated {
		t.Fatalf("schedule: %d %v", code, body)
	}
	convID := conversation.ConversationID(body["conversation_id"].(string))
	code2 := body["invitations"].([]any)[1].(map[string]any)["code"].(string)
	res, err := http.Post(r.base+"/video/invitations/"+code2, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var a video.TokenAnswer
	_ = json.NewDecoder(res.Body).Decode(&a)
	res.Body.Close()
	rmc := dialVideo(t, r.base, demoRM, body["organiser"].(map[string]any)["token"].(string))
	rmc.request(ctx, video.TypeJoin, video.JoinRequest{})
	rmc.publish()
	spec := dialVideo(t, r.base, "pm-ext-1", a.Token)
	spec.request(ctx, video.TypeJoin, video.JoinRequest{})
	spec.publish()
	if err := rmc.peer.WaitPackets(ctx, []string{"pm-ext-1/audio", "pm-ext-1/video"}, 60); err != nil {
		t.Fatal(err)
	}
	rmc.request(ctx, video.TypeEnd, nil)
	var stopped conversation.Event
	waitFor(t, "recording_stopped on the timeline", func() bool {
		evs, _ := r.g.store.Events(ctx, convID)
		for _, e := range evs {
			if e.Type == conversation.EventRecordingStopped {
				stopped = e
				return true
			}
		}
		return false
	})
	var ogg, ivf int
	for k, v := range stopped.Detail {
		if !strings.HasPrefix(k, "file.") {
			continue
		}
		path := strings.Fields(v)[0]
		st, err := os.Stat(path)
		if err != nil || st.Size() < 1000 || !strings.HasPrefix(path, dir) {
			t.Errorf("recorded file %q: %v (size %v)", v, err, st)
			continue
		}
		switch {
		case strings.HasSuffix(path, ".ogg"):
			ogg++
		case strings.HasSuffix(path, ".ivf"):
			ivf++
		}
	}
	if ogg != 2 || ivf != 2 {
		t.Fatalf("recording_stopped detail %v: %d ogg and %d ivf files, want 2 and 2", stopped.Detail, ogg, ivf)
	}
	waitFor(t, "recording_stopped on the desk", func() bool { return hasKind(deskVideo(t, r, demoRM), desk.VideoRecordingStopped, "") })
}
