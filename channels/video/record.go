package video

import "slices"

// RecordingOptions turn recording on: while a room's rule holds, every
// track published in it is written under Dir (audio to Ogg/Opus, video
// to IVF/VP8; see sfu.Room.StartRecording). RequireConsent: the rule is
// that every participant in the room (observers aside) has sent consent
// {"recording": true}; otherwise a room records while anyone is in it.
type RecordingOptions struct {
	Dir            string
	RequireConsent bool
}

// ConsentData is the data of a consent request: the participant agrees
// (or no longer agrees) to the room being recorded.
type ConsentData struct {
	Recording bool `json:"recording"`
}

// RecordingData is the data of the recording event: whether the room
// records now, and (when the server requires consent) who has not
// consented yet.
type RecordingData struct {
	Active  bool     `json:"active"`
	Waiting []string `json:"waiting,omitempty"`
}

// consent records s's consent to recording (joined participants only).
func (r *room) consent(s *session, d ConsentData) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[s.g.Identity]
	if m == nil || m.sess != s || m.state != StateJoined {
		return errNotJoined
	}
	m.consent = d.Recording
	return nil
}

// recordCheck starts or stops the room's recording as its rule now
// says, and tells the participants and the gateway. It takes no lock of
// the room while the SFU opens or closes files.
func (r *room) recordCheck() {
	opts := r.srv.rec
	if opts.Dir == "" {
		return
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	r.mu.Lock()
	joined, waiting := 0, []string{}
	for id, m := range r.members {
		if m.state != StateJoined || m.g.Role == RoleObserver {
			continue
		}
		joined++
		if !m.consent {
			waiting = append(waiting, id)
		}
	}
	want := !r.ended && joined > 0 && (!opts.RequireConsent || len(waiting) == 0)
	r.mu.Unlock()
	active := r.media.Recording()
	switch {
	case want && !active:
		if err := r.media.StartRecording(opts.Dir, string(r.id)); err != nil {
			r.log.Error("recording not started", "error", err)
			return
		}
		r.srv.events(Event{Type: RecordingStarted, Room: r.id, ConversationID: r.conv, At: r.srv.now()})
	case !want && active:
		files := r.media.StopRecording()
		r.srv.events(Event{Type: RecordingStopped, Room: r.id, ConversationID: r.conv, Files: files, At: r.srv.now()})
	default:
		if !want && opts.RequireConsent {
			r.broadcast(frame(EventRecording, "", RecordingData{Active: false, Waiting: slices.Sorted(slices.Values(waiting))}))
		}
		return
	}
	d := RecordingData{Active: want}
	if !want && opts.RequireConsent {
		d.Waiting = slices.Sorted(slices.Values(waiting))
	}
	r.broadcast(frame(EventRecording, "", d))
}

// broadcast queues f for every connected member.
func (r *room) broadcast(f Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broadcastLocked(f, "", nil)
}
