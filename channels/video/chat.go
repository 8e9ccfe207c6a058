package video

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/conversation"
)

// maxChatIDBytes bounds a chat message's client id.
const maxChatIDBytes = 64

// sinkTimeout bounds one Sink.Chat call.
const sinkTimeout = 5 * time.Second

// dataChannel takes m's data channels: "chat" carries chat (see ChatIn,
// ChatOut); others are closed.
func (r *room) dataChannel(m *member, dc *webrtc.DataChannel) {
	if dc.Label() != ChatLabel {
		_ = dc.Close()
		return
	}
	r.mu.Lock()
	m.chat = dc
	r.mu.Unlock()
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { r.chat(m, dc, msg) })
}

// chat handles one message on m's chat channel: checked, handed to the
// Sink, then relayed to every joined participant's chat channel (the
// sender's too, as its confirmation).
func (r *room) chat(m *member, dc *webrtc.DataChannel, msg webrtc.DataChannelMessage) {
	refuse := func(id, code, message string) {
		raw, _ := json.Marshal(ChatOut{Type: "error", ID: id, Code: code, Message: message})
		_ = dc.SendText(string(raw))
	}
	var in ChatIn
	if !msg.IsString || json.Unmarshal(msg.Data, &in) != nil {
		refuse("", "bad_request", `a chat message is JSON text {"id":..., "text":...}`)
		return
	}
	switch {
	case in.ID == "" || len(in.ID) > maxChatIDBytes:
		refuse(in.ID, "bad_request", "id: 1 to 64 bytes")
		return
	case in.Text == "" || !utf8.ValidString(in.Text):
		refuse(in.ID, "bad_request", "text: non-empty UTF-8")
		return
	case len(in.Text) > r.srv.cfg.MaxChatBytes:
		refuse(in.ID, "too_large", "text: too long")
		return
	}
	cm := ChatMessage{Room: r.id, ConversationID: r.conv, ID: in.ID, From: m.g.Identity, Role: m.g.Role, Name: m.g.Name, Text: in.Text, At: r.srv.now()}
	ctx, cancel := context.WithTimeout(r.srv.ctx, sinkTimeout)
	err := r.srv.sink.Chat(ctx, cm)
	cancel()
	if err != nil {
		code := "internal"
		if errors.Is(err, conversation.ErrUnavailable) {
			code = "unavailable"
		}
		r.log.Warn("chat message not saved", "identity", m.g.Identity, "chat_id", in.ID, "error", err)
		refuse(in.ID, code, "the message was not saved; send it again")
		return
	}
	r.log.Debug("chat message", "identity", m.g.Identity, "chat_id", in.ID, "text", conversation.MaskText(in.Text))
	raw, _ := json.Marshal(ChatOut{Type: "chat", ID: cm.ID, From: cm.From, Role: cm.Role, Name: cm.Name, Text: cm.Text, At: cm.At})
	r.mu.Lock()
	var out []*webrtc.DataChannel
	for _, o := range r.members {
		if o.state == StateJoined && o.chat != nil {
			out = append(out, o.chat)
		}
	}
	r.mu.Unlock()
	for _, c := range out {
		_ = c.SendText(string(raw))
	}
}
