package video

import (
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media/sfu"
)

// room is one video room: its members (in the room or in the lobby) and
// its SFU room.
type room struct {
	srv   *Server
	id    RoomID
	conv  conversation.ConversationID
	max   int
	media *sfu.Room
	log   *slog.Logger

	mu      sync.Mutex
	members map[string]*member // by identity
	ended   bool
	// recMu serialises starting and stopping the recording (record.go).
	recMu sync.Mutex
}

// member is a participant known to the room.
type member struct {
	g     Grant
	state string           // StateLobby or StateJoined
	sess  *session         // nil while disconnected (within the grace period)
	part  *sfu.Participant // once joined
	chat  *webrtc.DataChannel
	muted map[string]bool
	grace *time.Timer
	// consent: the participant agreed to the room being recorded.
	consent bool
}

func (m *member) info() ParticipantInfo {
	var muted map[string]bool
	if len(m.muted) > 0 {
		muted = make(map[string]bool, len(m.muted))
		for k, v := range m.muted {
			muted[k] = v
		}
	}
	return ParticipantInfo{Identity: m.g.Identity, Role: m.g.Role, Name: m.g.Name, State: m.state, Muted: muted}
}

// infos lists the members but except, ordered by identity.
func (r *room) infos(except string) []ParticipantInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.infosLocked(except)
}

func (r *room) infosLocked(except string) []ParticipantInfo {
	out := []ParticipantInfo{}
	for id, m := range r.members {
		if id != except {
			out = append(out, m.info())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Identity < out[j].Identity })
	return out
}

// broadcastLocked queues f for every connected member but except for
// whom keep holds (nil: all).
func (r *room) broadcastLocked(f Frame, except string, keep func(*member) bool) {
	for id, m := range r.members {
		if id != except && m.sess != nil && (keep == nil || keep(m)) {
			m.sess.enqueue(f)
		}
	}
}

func (r *room) event(typ string, m *member, by string) {
	r.srv.events(Event{Type: typ, Room: r.id, ConversationID: r.conv, Identity: m.g.Identity, Role: m.g.Role, By: by, At: r.srv.now()})
}

// sendTo queues f for identity's current session, if connected.
func (r *room) sendTo(identity string, f Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[identity]; m != nil && m.sess != nil {
		m.sess.enqueue(f)
	}
}

// enterLocked puts m in the room: its SFU participant is created and the
// others are told.
func (r *room) enterLocked(m *member) error {
	id := m.g.Identity
	p, err := r.media.Join(sfu.ParticipantOptions{ID: id, ReceiveOnly: m.g.Role == RoleObserver,
		OnDescription: func(d webrtc.SessionDescription) { r.sendTo(id, frame(d.Type.String(), "", d)) },
		OnCandidate:   func(c webrtc.ICECandidateInit) { r.sendTo(id, frame(TypeCandidate, "", c)) },
		OnDataChannel: func(dc *webrtc.DataChannel) { r.dataChannel(m, dc) },
	})
	if err != nil {
		return err
	}
	m.part = p
	m.state = StateJoined
	r.broadcastLocked(frame(EventJoined, "", m.info()), id, nil)
	r.event(ParticipantJoined, m, "")
	return nil
}

// dropLocked forgets m and tells the others; the returned func (call it
// after unlocking) takes its SFU participant out (pion's Close must not
// run under the room's lock: its callbacks take it).
func (r *room) dropLocked(m *member, typ, by string) func() {
	id := m.g.Identity
	if r.members[id] != m {
		return func() {}
	}
	delete(r.members, id)
	if m.grace != nil {
		m.grace.Stop()
	}
	r.broadcastLocked(frame(EventLeft, "", m.info()), id, nil)
	r.event(typ, m, by)
	if m.part == nil {
		return func() {}
	}
	return func() { _ = r.media.Leave(id) }
}

// detach is called when a session has ended: unless it left, was removed
// or replaced, its member keeps its place for the grace period.
func (r *room) detach(s *session) {
	r.mu.Lock()
	m := r.members[s.g.Identity]
	if m == nil || m.sess != s {
		r.mu.Unlock()
		return
	}
	m.sess = nil
	if s.isFinished() || r.ended {
		leave := r.dropLocked(m, ParticipantLeft, "")
		r.mu.Unlock()
		leave()
		r.recordCheck()
		return
	}
	defer r.mu.Unlock()
	m.grace = time.AfterFunc(r.srv.cfg.ReconnectGrace, func() {
		if !r.srv.track() {
			return
		}
		defer r.srv.wg.Done()
		leave := func() {}
		r.mu.Lock()
		if r.members[m.g.Identity] == m && m.sess == nil {
			r.log.Info("participant gone past the reconnect grace", "identity", m.g.Identity)
			leave = r.dropLocked(m, ParticipantLeft, "")
		}
		r.mu.Unlock()
		leave()
		r.recordCheck()
	})
}

// end ends the room: everyone is told (by: the RM, or "" for the
// gateway), their sessions close with code, the SFU room closes.
func (r *room) end(by string, code int, reason string) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	for _, m := range r.members {
		if m.grace != nil {
			m.grace.Stop()
		}
		if m.sess != nil {
			m.sess.enqueue(frame(EventEnded, "", map[string]string{"by": by}))
			if m.g.Identity != by {
				m.sess.finish(code, reason) // the RM's own closes after its ack
			}
		}
	}
	r.mu.Unlock()
	r.recordCheck() // ended: stops a recording and reports its files
	r.mu.Lock()
	clear(r.members)
	r.mu.Unlock()
	r.media.Close()
	r.srv.forget(r)
	r.srv.events(Event{Type: RoomEnded, Room: r.id, ConversationID: r.conv, By: by, At: r.srv.now()})
	r.log.Info("video room ended", "by", by)
}
