package video

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/media/sfu"
)

var (
	errNotJoined = &FrameError{Code: "not_joined", Status: 409, Message: "join the room (and be admitted) first"}
	errEnded     = &FrameError{Code: "room_ended", Status: 410, Message: "the room has ended"}
	errRMOnly    = &FrameError{Code: "forbidden", Status: 403, Message: "only an rm may do this"}
)

func badRequest(format string, a ...any) *FrameError {
	return &FrameError{Code: "bad_request", Status: 400, Message: fmt.Sprintf(format, a...)}
}

// decode reads f's data into v.
func decode(f Frame, v any) error {
	if len(f.Data) == 0 {
		return badRequest("%s needs data", f.Type)
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		return badRequest("%s data: %v", f.Type, err)
	}
	return nil
}

// handle answers one request of s: the ack's data, or an error (a
// *FrameError for a refusal). A change of who is in the room, or of
// consent, then starts or stops the recording.
func (r *room) handle(s *session, f Frame) (any, error) {
	result, err := r.request(s, f)
	if err == nil {
		switch f.Type {
		case TypeJoin, TypeAdmit, TypeRemove, TypeLeave, TypeConsent:
			// After the ack: the requester hears of its request first.
			prev := s.after
			s.after = func() {
				if prev != nil {
					prev()
				}
				r.recordCheck()
			}
		}
	}
	return result, err
}

// request carries out one request of s.
func (r *room) request(s *session, f Frame) (any, error) {
	switch f.Type {
	case TypeConsent:
		var c ConsentData
		if err := decode(f, &c); err != nil {
			return nil, err
		}
		return nil, r.consent(s, c)
	case TypeJoin:
		var req JoinRequest
		if len(f.Data) > 0 {
			if err := decode(f, &req); err != nil {
				return nil, err
			}
		}
		return r.join(s, req)
	case TypeOffer, TypeAnswer:
		var d webrtc.SessionDescription
		if err := decode(f, &d); err != nil {
			return nil, err
		}
		return nil, r.describe(s, f.Type, d)
	case TypeCandidate:
		var c webrtc.ICECandidateInit
		if err := decode(f, &c); err != nil {
			return nil, err
		}
		p, err := r.participant(s)
		if err != nil {
			return nil, err
		}
		if err := p.AddCandidate(c); err != nil {
			return nil, &FrameError{Code: "bad_candidate", Status: 400, Message: err.Error()}
		}
		return nil, nil
	case TypeMute:
		var m MuteData
		if err := decode(f, &m); err != nil {
			return nil, err
		}
		return nil, r.mute(s, m)
	case TypeLayer:
		var l LayerRequest
		if err := decode(f, &l); err != nil {
			return nil, err
		}
		return r.layer(s, l)
	case TypeAdmit, TypeRemove:
		var t Target
		if err := decode(f, &t); err != nil {
			return nil, err
		}
		if f.Type == TypeAdmit {
			return nil, r.admit(s, t.Identity)
		}
		return nil, r.remove(s, t.Identity)
	case TypeEnd:
		if s.g.Role != RoleRM {
			return nil, errRMOnly
		}
		r.end(s.g.Identity, websocket.CloseNormalClosure, "the room has ended")
		return nil, nil
	case TypeLeave:
		r.mu.Lock()
		leave := func() {}
		if m := r.members[s.g.Identity]; m != nil && m.sess == s {
			leave = r.dropLocked(m, ParticipantLeft, "")
		}
		r.mu.Unlock()
		leave()
		return nil, nil
	}
	return nil, &FrameError{Code: "unknown_type", Status: 400, Message: fmt.Sprintf("unknown frame type %q", f.Type)}
}

// join puts s's identity in the lobby (a client) or the room (the
// others); see JoinRequest for a resume.
func (r *room) join(s *session, req JoinRequest) (any, error) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return nil, errEnded
	}
	id := s.g.Identity
	m := r.members[id]
	if m != nil && m.sess == s {
		r.mu.Unlock()
		return nil, &FrameError{Code: "conflict", Status: 409, Message: "already joined on this connection"}
	}
	if m != nil && req.Resume {
		old := m.sess
		m.sess = s
		if m.grace != nil {
			m.grace.Stop()
		}
		ack := JoinAck{State: m.state, Resumed: true, Participants: r.infosLocked(id)}
		p := m.part
		r.mu.Unlock()
		if old != nil {
			old.finish(CloseReplaced, "the same identity connected again")
		}
		if p != nil {
			// After the ack: the server offers with new ICE credentials.
			s.after = p.RestartICE
		}
		s.log.Info("participant resumed", "state", ack.State)
		return ack, nil
	}
	leave := func() {}
	if m != nil {
		// A fresh start from a new client: the old one goes.
		if m.sess != nil {
			m.sess.finish(CloseReplaced, "the same identity connected again")
		}
		leave = r.dropLocked(m, ParticipantLeft, "")
	}
	if len(r.members) >= r.max {
		r.mu.Unlock()
		leave()
		return nil, &FrameError{Code: "room_full", Status: 409, Message: fmt.Sprintf("the room is full (%d participants)", r.max)}
	}
	m = &member{g: s.g, sess: s, state: StateLobby, muted: map[string]bool{}}
	r.members[id] = m
	var err error
	if s.g.Role == RoleClient {
		r.broadcastLocked(frame(EventLobby, "", m.info()), id, func(o *member) bool { return o.g.Role == RoleRM })
		r.event(ParticipantLobby, m, "")
	} else {
		err = r.enterLocked(m)
		if err != nil {
			delete(r.members, id)
		}
	}
	ack := JoinAck{State: m.state, Participants: r.infosLocked(id)}
	r.mu.Unlock()
	leave()
	if err != nil {
		return nil, fmt.Errorf("video: join: %w", err)
	}
	s.log.Info("participant joined", "state", ack.State)
	return ack, nil
}

// participant returns s's SFU participant once it is in the room.
func (r *room) participant(s *session) (*sfu.Participant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return nil, errEnded
	}
	m := r.members[s.g.Identity]
	if m == nil || m.sess != s || m.part == nil {
		return nil, errNotJoined
	}
	return m.part, nil
}

// describe applies the client's offer or answer.
func (r *room) describe(s *session, typ string, d webrtc.SessionDescription) error {
	if d.Type.String() != typ {
		return &FrameError{Code: "bad_sdp", Status: 400, Message: fmt.Sprintf("an %s frame carries type %q", typ, d.Type)}
	}
	p, err := r.participant(s)
	if err != nil {
		return err
	}
	if typ == TypeOffer {
		err = p.Offer(d)
	} else {
		err = p.Answer(d)
	}
	switch {
	case errors.Is(err, sfu.ErrBadSDP):
		return &FrameError{Code: "bad_sdp", Status: 400, Message: err.Error()}
	case errors.Is(err, sfu.ErrNoOffer):
		return &FrameError{Code: "no_offer", Status: 409, Message: "no server offer waits for an answer (it was withdrawn after your offer crossed it)"}
	case errors.Is(err, sfu.ErrClosed):
		return errNotJoined
	}
	return err
}

// mute tells the others s muted or unmuted a kind of media.
func (r *room) mute(s *session, d MuteData) error {
	if d.Kind != "audio" && d.Kind != "video" && d.Kind != "screen" {
		return badRequest("kind: audio, video or screen")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[s.g.Identity]
	if m == nil || m.sess != s || m.state != StateJoined {
		return errNotJoined
	}
	m.muted[d.Kind] = d.Muted
	d.Identity = s.g.Identity
	r.broadcastLocked(frame(EventMute, "", d), s.g.Identity, nil)
	return nil
}

// layer chooses the simulcast layer s receives of a track.
func (r *room) layer(s *session, l LayerRequest) (any, error) {
	if l.Identity == "" || l.Track == "" {
		return nil, badRequest("identity and track are required")
	}
	p, err := r.participant(s)
	if err != nil {
		return nil, err
	}
	switch err := p.SelectLayer(l.Identity, l.Track, l.RID); {
	case errors.Is(err, sfu.ErrNotFound):
		return nil, &FrameError{Code: "not_found", Status: 404, Message: fmt.Sprintf("you receive no track %q from %q", l.Track, l.Identity)}
	case errors.Is(err, sfu.ErrNoLayer):
		return nil, badRequest("track %q has no layer %q", l.Track, l.RID)
	case err != nil:
		return nil, err
	}
	cur, all, err := p.Layer(l.Identity, l.Track)
	if err != nil {
		return nil, err
	}
	return LayerAck{Layers: all, Current: cur}, nil
}

// admit lets a client in from the lobby (rm only).
func (r *room) admit(s *session, identity string) error {
	if s.g.Role != RoleRM {
		return errRMOnly
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.actorLocked(s); err != nil {
		return err
	}
	m := r.members[identity]
	switch {
	case m == nil:
		return &FrameError{Code: "not_found", Status: 404, Message: "no such participant"}
	case m.state != StateLobby:
		return &FrameError{Code: "conflict", Status: 409, Message: "the participant is not in the lobby"}
	}
	if err := r.enterLocked(m); err != nil {
		return fmt.Errorf("video: admit: %w", err)
	}
	if m.sess != nil {
		m.sess.enqueue(frame(EventAdmitted, "", map[string]any{"by": s.g.Identity, "participants": r.infosLocked(identity)}))
	}
	r.log.Info("participant admitted", "identity", identity, "by", s.g.Identity)
	return nil
}

// remove takes a participant out of the room or the lobby (rm only).
func (r *room) remove(s *session, identity string) error {
	if s.g.Role != RoleRM {
		return errRMOnly
	}
	r.mu.Lock()
	if err := r.actorLocked(s); err != nil {
		r.mu.Unlock()
		return err
	}
	m := r.members[identity]
	if m == nil {
		r.mu.Unlock()
		return &FrameError{Code: "not_found", Status: 404, Message: "no such participant"}
	}
	if m.sess != nil {
		m.sess.enqueue(frame(EventRemoved, "", map[string]string{"by": s.g.Identity}))
		m.sess.finish(CloseRemoved, "removed by the rm")
	}
	leave := r.dropLocked(m, ParticipantRemove, s.g.Identity)
	r.mu.Unlock()
	leave()
	r.log.Info("participant removed", "identity", identity, "by", s.g.Identity)
	return nil
}

// actorLocked checks that s's member is in the room.
func (r *room) actorLocked(s *session) error {
	if r.ended {
		return errEnded
	}
	if m := r.members[s.g.Identity]; m == nil || m.sess != s || m.state != StateJoined {
		return errNotJoined
	}
	return nil
}
