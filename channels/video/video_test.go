package video_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
)

// TestRoom: an RM and a specialist join, a client waits in the lobby and
// is admitted by the RM (the specialist may not admit: 403); the three
// publish Opus and VP8 and each receives the other two's tracks; a fourth
// finds the room full; a malformed SDP gets an error frame and the
// connection stays; chat over the data channel reaches the Sink and the
// others; the specialist may not remove (403), the RM removes it; the RM
// ends the room.
func TestRoom(t *testing.T) {
	e := newEnv(t, video.Config{})
	if err := e.srv.CreateRoom(video.RoomSpec{ID: "room-1", ConversationID: "conv-1", MaxParticipants: 3}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rm := e.dial(t, "rm-pb-01", e.token(t, "room-1", video.RoleRM, "rm-pb-01", time.Hour))
	var w video.Welcome
	_ = json.Unmarshal(rm.await(ctx, video.TypeWelcome, "").Data, &w)
	if w.Role != video.RoleRM || w.ConversationID != "conv-1" || w.PingSeconds != 10 {
		t.Fatalf("welcome %+v", w)
	}
	if f := rm.request(ctx, video.TypeOffer, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0"}); f.Type != video.TypeError {
		t.Fatalf("offer before join: %s", f.Type)
	}
	join := func(c *client, want string) {
		t.Helper()
		f := c.request(ctx, video.TypeJoin, video.JoinRequest{})
		var ack video.JoinAck
		_ = json.Unmarshal(f.Data, &ack)
		if f.Type != video.TypeAck || ack.State != want {
			t.Fatalf("%s join: %s %s, want state %s", c.name, f.Type, f.Data, want)
		}
	}
	join(rm, video.StateJoined)
	rm.publish()

	spec := e.dial(t, "pm-01", e.token(t, "room-1", video.RoleSpecialist, "pm-01", time.Hour))
	join(spec, video.StateJoined)
	spec.publish()

	cl := e.dial(t, "cus-pb-0001", e.token(t, "room-1", video.RoleClient, "cus-pb-0001", time.Hour))
	join(cl, video.StateLobby)
	rm.await(ctx, video.EventLobby, "")
	if code, status := errorCode(spec.request(ctx, video.TypeAdmit, video.Target{Identity: "cus-pb-0001"})); code != "forbidden" || status != 403 {
		t.Fatalf("specialist admits: %s %d, want forbidden 403", code, status)
	}
	if f := rm.request(ctx, video.TypeAdmit, video.Target{Identity: "cus-pb-0001"}); f.Type != video.TypeAck {
		t.Fatalf("rm admits: %s", f.Data)
	}
	cl.await(ctx, video.EventAdmitted, "")
	cl.publish()

	all := []*client{rm, spec, cl}
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

	// A fourth: the room is full; the connection stays.
	obs := e.dial(t, "sup-1", e.token(t, "room-1", video.RoleObserver, "sup-1", time.Hour))
	if code, status := errorCode(obs.request(ctx, video.TypeJoin, nil)); code != "room_full" || status != 409 {
		t.Fatalf("fourth join: %s %d, want room_full 409", code, status)
	}
	if code, _ := errorCode(obs.request(ctx, "dance", nil)); code != "unknown_type" {
		t.Fatalf("after room_full: %s, want unknown_type (connection kept)", code)
	}

	// A malformed SDP: an error frame; the connection and the media stay.
	if code, status := errorCode(cl.request(ctx, video.TypeOffer, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\ngarbage"})); code != "bad_sdp" || status != 400 {
		t.Fatalf("malformed SDP: %s %d, want bad_sdp 400", code, status)
	}
	if f := cl.request(ctx, video.TypeMute, video.MuteData{Kind: "audio", Muted: true}); f.Type != video.TypeAck {
		t.Fatalf("mute after a bad SDP: %s", f.Data)
	}
	var mute video.MuteData
	_ = json.Unmarshal(rm.await(ctx, video.EventMute, "").Data, &mute)
	if mute.Identity != "cus-pb-0001" || mute.Kind != "audio" || !mute.Muted {
		t.Fatalf("mute event %+v", mute)
	}

	// Chat over the data channel: to the Sink, then to everyone.
	if err := rm.dc.SendText(`{"id":"m-1","text":"Good morning, Mrs Chan"}`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.sink.got:
	case <-ctx.Done():
		t.Fatal("the sink got no chat message")
	}
	e.sink.mu.Lock()
	m := e.sink.msgs[0]
	e.sink.mu.Unlock()
	if m.Room != "room-1" || m.ConversationID != "conv-1" || m.From != "rm-pb-01" || m.Role != video.RoleRM || m.ID != "m-1" || m.Text != "Good morning, Mrs Chan" {
		t.Fatalf("sink got %+v", m)
	}
	select {
	case out := <-cl.chats:
		if out.Type != "chat" || out.From != "rm-pb-01" || out.Text != m.Text {
			t.Fatalf("client got chat %+v", out)
		}
	case <-ctx.Done():
		t.Fatal("the client got no chat message")
	}

	// Removal: not by a specialist; by the RM.
	if code, status := errorCode(spec.request(ctx, video.TypeRemove, video.Target{Identity: "cus-pb-0001"})); code != "forbidden" || status != 403 {
		t.Fatalf("specialist removes: %s %d, want forbidden 403", code, status)
	}
	if f := rm.request(ctx, video.TypeRemove, video.Target{Identity: "pm-01"}); f.Type != video.TypeAck {
		t.Fatalf("rm removes: %s", f.Data)
	}
	spec.await(ctx, video.EventRemoved, "")
	select {
	case <-spec.closed:
	case <-ctx.Done():
		t.Fatal("the removed specialist's connection stays open")
	}
	if !websocket.IsCloseError(spec.readErr, video.CloseRemoved) {
		t.Fatalf("removed: closed with %v, want %d", spec.readErr, video.CloseRemoved)
	}
	var left video.ParticipantInfo
	_ = json.Unmarshal(cl.await(ctx, video.EventLeft, "").Data, &left)
	if left.Identity != "pm-01" {
		t.Fatalf("left: %+v", left)
	}
	ps, _ := e.srv.Participants("room-1")
	if len(ps) != 2 {
		t.Fatalf("participants after removal: %+v", ps)
	}

	// The RM ends the room.
	if f := rm.request(ctx, video.TypeEnd, nil); f.Type != video.TypeAck {
		t.Fatalf("end: %s", f.Data)
	}
	cl.await(ctx, video.EventEnded, "")
	if _, err := e.srv.Participants("room-1"); err == nil {
		t.Fatal("the room is still there")
	}
}

// TestAuthBeforeUpgrade: a missing, invalid, expired or other-room token
// gets 401 (or 404) before the upgrade.
func TestAuthBeforeUpgrade(t *testing.T) {
	e := newEnv(t, video.Config{})
	if err := e.srv.CreateRoom(video.RoomSpec{ID: "room-1"}); err != nil {
		t.Fatal(err)
	}
	other, _ := video.NewTokens([]byte("another secret of at least 32 bytes!!"), 0)
	otherTok, _, _ := other.Issue(video.Grant{Room: "room-1", Role: video.RoleRM, Identity: "rm-1"}, time.Hour, time.Now())
	expired, _, _ := e.tokens.Issue(video.Grant{Room: "room-1", Role: video.RoleRM, Identity: "rm-1"}, time.Minute, time.Now().Add(-time.Hour))
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"garbage", http.Header{"Authorization": {"Bearer nope"}}, http.StatusUnauthorized},
		{"other secret", http.Header{"Authorization": {"Bearer " + otherTok}}, http.StatusUnauthorized},
		{"expired", http.Header{"Authorization": {"Bearer " + expired}}, http.StatusUnauthorized},
		{"basic scheme", http.Header{"Authorization": {"Basic " + e.token(t, "room-1", video.RoleRM, "rm-1", time.Hour)}}, http.StatusUnauthorized},
		{"no such room", http.Header{"Authorization": {"Bearer " + e.token(t, "room-9", video.RoleRM, "rm-1", time.Hour)}}, http.StatusNotFound},
		{"valid", http.Header{"Authorization": {"Bearer " + e.token(t, "room-1", video.RoleRM, "rm-1", time.Hour)}}, http.StatusSwitchingProtocols},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := websocket.DefaultDialer.Dial(e.url, tc.header)
			if conn != nil {
				_ = conn.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

// TestFrameLimits: a frame over the limit closes with 1009; a bad frame
// gets an error frame and the connection stays.
func TestFrameLimits(t *testing.T) {
	e := newEnv(t, video.Config{MaxFrameBytes: 8 << 10, MaxChatBytes: 100})
	if err := e.srv.CreateRoom(video.RoomSpec{ID: "room-1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := e.dial(t, "rm-1", e.token(t, "room-1", video.RoleRM, "rm-1", time.Hour))
	c.await(ctx, video.TypeWelcome, "")
	c.wmu.Lock()
	_ = c.conn.WriteMessage(websocket.TextMessage, []byte("{nope"))
	c.wmu.Unlock()
	if code, _ := errorCode(c.await(ctx, video.TypeError, "")); code != "bad_frame" {
		t.Fatalf("bad frame: %s", code)
	}
	if f := c.request(ctx, video.TypeJoin, nil); f.Type != video.TypeAck {
		t.Fatalf("join after a bad frame: %s", f.Data)
	}
	c.wmu.Lock()
	_ = c.conn.WriteMessage(websocket.TextMessage, make([]byte, 9<<10))
	c.wmu.Unlock()
	select {
	case <-c.closed:
	case <-ctx.Done():
		t.Fatal("still open after a frame over the limit")
	}
	if !websocket.IsCloseError(c.readErr, websocket.CloseMessageTooBig) {
		t.Fatalf("closed with %v, want 1009", c.readErr)
	}
}

// TestResume: a participant whose WebSocket drops reconnects with resume
// within the grace period; the server restarts ICE and media keeps
// flowing on the same PeerConnection.
func TestResume(t *testing.T) {
	e := newEnv(t, video.Config{})
	if err := e.srv.CreateRoom(video.RoomSpec{ID: "room-1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rmTok := e.token(t, "room-1", video.RoleRM, "rm-1", time.Hour)
	rm := e.dial(t, "rm-1", rmTok)
	spec := e.dial(t, "pm-1", e.token(t, "room-1", video.RoleSpecialist, "pm-1", time.Hour))
	for _, c := range []*client{rm, spec} {
		if f := c.request(ctx, video.TypeJoin, nil); f.Type != video.TypeAck {
			t.Fatalf("join: %s", f.Data)
		}
		c.publish()
	}
	if err := rm.peer.WaitPackets(ctx, []string{"pm-1/audio", "pm-1/video"}, 10); err != nil {
		t.Fatal(err)
	}
	before := rm.peer.PC.CurrentRemoteDescription().SDP
	// A new WebSocket for the same peer: the old one is replaced (4009).
	rm2 := e.dialPeer(t, "rm-1", rmTok, rm)
	f := rm2.request(ctx, video.TypeJoin, video.JoinRequest{Resume: true})
	var ack video.JoinAck
	_ = json.Unmarshal(f.Data, &ack)
	if f.Type != video.TypeAck || !ack.Resumed || ack.State != video.StateJoined {
		t.Fatalf("resume: %s %s", f.Type, f.Data)
	}
	select {
	case <-rm.closed:
	case <-ctx.Done():
		t.Fatal("the replaced connection stays open")
	}
	if !websocket.IsCloseError(rm.readErr, video.CloseReplaced) {
		t.Fatalf("replaced: %v, want %d", rm.readErr, video.CloseReplaced)
	}
	n := rm.peer.Received()["pm-1/video"]
	if err := rm.peer.WaitPackets(ctx, []string{"pm-1/video"}, n+20); err != nil {
		t.Fatal(err)
	}
	if err := rm.peer.WaitFor(ctx, "the ICE restart offer", func() bool { return rm.peer.PC.CurrentRemoteDescription().SDP != before }); err != nil {
		t.Fatal(err)
	}
	ps, _ := e.srv.Participants("room-1")
	if len(ps) != 2 {
		t.Fatalf("participants %+v", ps)
	}
}
