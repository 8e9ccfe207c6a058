package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/gateway/videopage"
)

// maxVideoRequestBytes bounds a video request's body.
const maxVideoRequestBytes = 4 << 10

// VideoRequest is the optional body of POST /video/requests: what the
// client wants to talk about (routing reads it like any intent).
type VideoRequest struct {
	Intent   string `json:"intent,omitempty"`
	Language string `json:"language,omitempty"`
}

// VideoRequestAnswer answers a client's request for video: the new video
// conversation (queued for routing, own RM first), its room, and the
// client's join token and page URL. The client joins at once and waits in
// the lobby until the RM who accepts admits them.
type VideoRequestAnswer struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Room           video.RoomID                `json:"room"`
	Token          string                      `json:"token"`
	URL            string                      `json:"url"`
	ExpiresAt      time.Time                   `json:"expires_at"`
	Status         conversation.Status         `json:"status"`
}

// serveRequest answers POST /video/requests for a web chat client (the
// same bearer token as /ws/chat): it opens a video conversation for the
// client, routes it, opens its room and answers 201 with a
// VideoRequestAnswer. 401/403 as /ws/chat refuses, 400 for a bad body,
// 404 without web chat, 503 when the store or routing cannot answer now.
func (v *videoChannel) serveRequest(w http.ResponseWriter, r *http.Request) {
	if v.chat == nil || v.router == nil {
		http.Error(w, "video requests need web chat and routing", http.StatusNotFound)
		return
	}
	cl, status, err := v.chat.Authenticate(r)
	if err != nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="airbranch-chat"`)
		}
		if status >= 500 {
			v.log.Warn("video request: client not resolved", "error", err)
		}
		http.Error(w, err.Error(), status)
		return
	}
	var req VideoRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxVideoRequestBytes))
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || len(req.Intent) > 64 || len(req.Language) > 16 {
		http.Error(w, "body: optional JSON {\"intent\": up to 64 bytes, \"language\": up to 16 bytes}", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	now := time.Now()
	c := conversation.New(cl.Customer, conversation.ChannelVideo, cl.Address, now)
	c.ChannelAccount = videoAccount
	c.Intent = req.Intent
	if req.Language != "" {
		c.Language = req.Language
	}
	stored, err := v.store.CreateConversation(ctx, c)
	if err != nil {
		v.fail(w, "conversation not opened", err)
		return
	}
	log := v.log.With("conversation_id", stored.ID)
	ev := conversation.NewEvent(stored.ID, conversation.EventStatusChanged, string(cl.Customer.ID), now)
	ev.ToStatus, ev.Channel, ev.Reason = conversation.StatusNew, conversation.ChannelVideo, "the client asked for video from web chat"
	if err := v.store.AppendEvent(ctx, ev); err != nil {
		log.Error("creation event not stored", "error", err)
	}
	if err := v.open(stored); err != nil {
		v.fail(w, "room not opened", err)
		return
	}
	routed, err := v.router.Route(ctx, stored.ID)
	if err != nil {
		_ = v.srv.EndRoom(video.RoomID(stored.ID))
		v.fail(w, "conversation not routed", err)
		return
	}
	l, err := v.link(video.Grant{Room: video.RoomID(stored.ID), Role: video.RoleClient, Identity: string(cl.Customer.ID), Name: cl.Customer.DisplayName})
	if err != nil {
		v.fail(w, "join token not issued", err)
		return
	}
	log.Info("client asked for video", "status", routed.Status)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(VideoRequestAnswer{ConversationID: stored.ID, Room: video.RoomID(stored.ID), Token: l.Token,
		URL: v.base + videopage.Prefix + "#token=" + l.Token, ExpiresAt: l.ExpiresAt, Status: routed.Status})
}

// fail answers 503 for an unavailable store, 500 otherwise.
func (v *videoChannel) fail(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, conversation.ErrUnavailable) {
		v.log.Warn("video request: "+what, "error", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, fmt.Sprintf("%s; retry", what), http.StatusServiceUnavailable)
		return
	}
	v.log.Error("video request: "+what, "error", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
