package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/state"
)

// videoAccount is the channel account of video conversations' messages.
const videoAccount = "video"

// videoSink saves in-room chat on the room's conversation: a message of
// the video channel, inbound from the client, outbound from the bank's
// side, keyed by room, sender and the sender's id so a re-sent one is
// stored once.
type videoSink struct{ store state.Store }

var _ video.Sink = videoSink{}

// Chat implements video.Sink.
func (s videoSink) Chat(ctx context.Context, m video.ChatMessage) error {
	if m.ConversationID == "" {
		return nil // a room without a conversation (none is opened so)
	}
	dir := conversation.Outbound
	if m.Role == video.RoleClient {
		dir = conversation.Inbound
	}
	msg := conversation.Message{ID: conversation.NewMessageID(m.At), ConversationID: m.ConversationID, Channel: conversation.ChannelVideo,
		ChannelAccount: videoAccount, Direction: dir, Sender: m.From, Text: m.Text, ProviderID: string(m.Room) + "|" + m.From + "|" + m.ID,
		Status: conversation.DeliveryDelivered, CreatedAt: conversation.Millis(m.At), UpdatedAt: conversation.Millis(m.At)}
	if _, _, err := s.store.AppendMessage(ctx, msg); err != nil {
		return fmt.Errorf("gateway: video chat: %w", err)
	}
	return nil
}

// videoTimeline maps room events to the conversation's timeline and the
// desk's video event kinds.
var videoTimeline = map[string]struct {
	typ  conversation.EventType
	kind string
}{
	video.RoomCreated:       {conversation.EventMediaStarted, desk.VideoRoomOpened},
	video.ParticipantLobby:  {"", desk.VideoParticipantLobby},
	video.ParticipantJoined: {conversation.EventParticipantJoined, desk.VideoParticipantJoined},
	video.ParticipantLeft:   {conversation.EventParticipantLeft, desk.VideoParticipantLeft},
	video.ParticipantRemove: {conversation.EventParticipantLeft, desk.VideoParticipantLeft},
	video.RecordingStarted:  {conversation.EventRecordingStarted, desk.VideoRecordingStarted},
	video.RecordingStopped:  {conversation.EventRecordingStopped, desk.VideoRecordingStopped},
	video.RoomEnded:         {conversation.EventMediaEnded, desk.VideoRoomEnded},
}

// record stores a room event on its conversation's timeline (a recording
// that stopped names its files in Detail: "file.1", "file.2"... as
// "path kind codec packets") and tells the RMs taking part on their desks
// (room_opened is told with the join link instead, by opened). A room is
// recorded as this instance's from its creation to its end (liveness).
func (v *videoChannel) record(ctx context.Context, ev video.Event) {
	m, ok := videoTimeline[ev.Type]
	if !ok || ev.ConversationID == "" {
		return
	}
	log := v.log.With("conversation_id", ev.ConversationID, "event", ev.Type)
	switch ev.Type {
	case video.RoomCreated: // the room lives on this instance until it ends
		v.live.hold(ctx, ev.ConversationID)
	case video.RoomEnded:
		v.live.release(ctx, ev.ConversationID)
	}
	if ev.Type == video.ParticipantJoined {
		v.scheduled.used(ev.ConversationID)
		if ev.Role == video.RoleRM {
			v.organiserJoined(ctx, ev, log)
		}
	}
	if m.typ != "" {
		actor := ev.By
		if actor == "" {
			actor = ev.Identity
		}
		if actor == "" {
			actor = "system"
		}
		e := conversation.NewEvent(ev.ConversationID, m.typ, actor, ev.At)
		e.Channel = conversation.ChannelVideo
		e.Detail = map[string]string{"room": string(ev.Room)}
		if ev.Identity != "" {
			e.Detail["identity"], e.Detail["role"] = ev.Identity, string(ev.Role)
		}
		if ev.Type == video.ParticipantRemove {
			e.Reason = "removed by " + ev.By
		}
		for i, f := range ev.Files {
			e.Detail[fmt.Sprintf("file.%d", i+1)] = fmt.Sprintf("%s %s %s %d", f.Path, f.Kind, f.Codec, f.Packets)
		}
		if err := v.store.AppendEvent(ctx, e); err != nil {
			log.Warn("video event not stored on the timeline", "error", err)
		}
	}
	if ev.Type == video.RoomCreated {
		return
	}
	c, err := v.store.Conversation(ctx, ev.ConversationID)
	if err != nil {
		log.Warn("video event not told to the desks: conversation not read", "error", err)
		return
	}
	d := desk.VideoData{Kind: m.kind, ConversationID: ev.ConversationID, Room: string(ev.Room), Identity: ev.Identity, Role: string(ev.Role), At: ev.At.UTC()}
	for _, f := range ev.Files {
		d.Files = append(d.Files, f.Path)
	}
	for _, rm := range videoRMs(c) {
		if err := v.hub.Publish(ctx, rm, desk.EventVideo, d); err != nil {
			log.Warn("video event not published to the desk", "rm_id", rm, "error", err)
		}
	}
}

// videoRMs lists c's assignee and the RMs and specialists still in it.
func videoRMs(c conversation.Conversation) []conversation.RMID {
	var out []conversation.RMID
	seen := map[conversation.RMID]bool{}
	add := func(id conversation.RMID) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	add(c.AssigneeID)
	for _, p := range c.Participants {
		if (p.Role == conversation.RoleRM || p.Role == conversation.RoleSpecialist) && p.LeftAt.IsZero() {
			add(conversation.RMID(p.ID))
		}
	}
	return out
}

// organiserJoined makes the RM who scheduled a session its assignee when
// they join its room (router.AssignTo): the session is then theirs to wrap
// up and close from the desk like any other conversation. Other RMs
// joining, and conversations that were routed, are left alone.
func (v *videoChannel) organiserJoined(ctx context.Context, ev video.Event, log *slog.Logger) {
	c, err := v.store.Conversation(ctx, ev.ConversationID)
	if err != nil || c.Status != conversation.StatusNew || v.router == nil {
		return
	}
	organiser := slices.ContainsFunc(c.Participants, func(p conversation.Participant) bool {
		return p.Role == conversation.RoleRM && p.ID == ev.Identity && p.LeftAt.IsZero()
	})
	if !organiser {
		return
	}
	if _, err := v.router.AssignTo(ctx, c.ID, conversation.RMID(ev.Identity)); err != nil {
		log.Warn("scheduled session not assigned to its organiser", "rm_id", ev.Identity, "error", err)
		return
	}
	log.Info("scheduled session assigned to its organiser", "rm_id", ev.Identity)
}
