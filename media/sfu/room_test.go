package sfu_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/media/sfu"
)

// TestRoomForwardsEveryTrack: three peers each publish Opus and VP8; each
// receives the other two's four tracks; a screen share added later by
// renegotiation reaches the others; a PLI from a subscriber reaches the
// publisher; a malformed SDP is refused without harm; every server
// candidate and every selected pair uses the SFU's one UDP port; a peer
// that leaves is gone from the room.
func TestRoomForwardsEveryTrack(t *testing.T) {
	s := newSFU(t)
	room, err := s.NewRoom("room-1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	names := []string{"client", "rm", "specialist"}
	links := map[string]*link{}
	for _, n := range names {
		l := join(t, room, n, false)
		links[n] = l
		for _, kind := range []string{"audio", "video"} {
			if _, err := l.peer.AddTrack(kind, kind); err != nil {
				t.Fatal(err)
			}
		}
		// A malformed offer first: refused, the participant stays usable.
		if err := l.part.Offer(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\nnonsense"}); !errors.Is(err, sfu.ErrBadSDP) {
			t.Fatalf("malformed offer: %v, want ErrBadSDP", err)
		}
		if err := l.peer.Offer(false); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		var keys []string
		for _, o := range names {
			if o != n {
				keys = append(keys, o+"/audio", o+"/video")
			}
		}
		if err := links[n].peer.WaitPackets(ctx, keys, 20); err != nil {
			t.Fatal(err)
		}
	}

	// Screen share: the rm adds a track and offers again.
	rm := links["rm"]
	if _, err := rm.peer.AddTrack("video", "screen"); err != nil {
		t.Fatal(err)
	}
	if err := rm.peer.Offer(false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"client", "specialist"} {
		if err := links[n].peer.WaitPackets(ctx, []string{"rm/screen"}, 10); err != nil {
			t.Fatal(err)
		}
	}

	// A PLI from the client for the rm's camera reaches the rm.
	var ssrc webrtc.SSRC
	for _, r := range links["client"].peer.PC.GetReceivers() {
		if tr := r.Track(); tr != nil && tr.StreamID() == "rm" && tr.ID() == "video" {
			ssrc = tr.SSRC()
		}
	}
	if ssrc == 0 {
		t.Fatal("the client has no receiver for rm/video")
	}
	before := rm.peer.PLIs()
	if err := links["client"].peer.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}}); err != nil {
		t.Fatal(err)
	}
	if err := rm.peer.WaitFor(ctx, "a PLI", func() bool { return rm.peer.PLIs() > before }); err != nil {
		t.Fatal(err)
	}

	// One UDP port for every session.
	want := s.LocalAddr().String()
	for _, n := range names {
		cands := links[n].serverCandidates()
		if len(cands) == 0 {
			t.Fatalf("%s: no server candidates", n)
		}
		for _, c := range cands {
			if c != want {
				t.Errorf("%s: server candidate %s, want %s", n, c, want)
			}
		}
		pair, err := links[n].peer.PC.GetSenders()[0].Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s: no selected pair: %v", n, err)
		}
		if got := pair.Remote.Address + ":" + strconv.Itoa(int(pair.Remote.Port)); got != want {
			t.Errorf("%s: selected remote %s, want %s", n, got, want)
		}
	}

	// The specialist leaves.
	if err := room.Leave("specialist"); err != nil {
		t.Fatal(err)
	}
	if err := room.Leave("specialist"); !errors.Is(err, sfu.ErrNotFound) {
		t.Fatalf("second leave: %v, want ErrNotFound", err)
	}
	if room.Len() != 2 {
		t.Fatalf("room has %d participants, want 2", room.Len())
	}
	if _, err := room.Join(sfu.ParticipantOptions{ID: "rm", OnDescription: func(webrtc.SessionDescription) {}, OnCandidate: func(webrtc.ICECandidateInit) {}}); !errors.Is(err, sfu.ErrDuplicate) {
		t.Fatalf("duplicate join: %v, want ErrDuplicate", err)
	}
	room.Close()
	if _, err := room.Join(sfu.ParticipantOptions{ID: "late", OnDescription: func(webrtc.SessionDescription) {}, OnCandidate: func(webrtc.ICECandidateInit) {}}); !errors.Is(err, sfu.ErrClosed) {
		t.Fatalf("join after close: %v, want ErrClosed", err)
	}
}

// TestObserverIsNotForwarded: a receive-only participant receives the
// others' tracks, and its own are not forwarded.
func TestObserverIsNotForwarded(t *testing.T) {
	s := newSFU(t)
	room, err := s.NewRoom("room-2")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rm := join(t, room, "rm", false)
	obs := join(t, room, "observer", true)
	for _, l := range []*link{rm, obs} {
		if _, err := l.peer.AddTrack("video", "video"); err != nil {
			t.Fatal(err)
		}
		if err := l.peer.Offer(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := obs.peer.WaitPackets(ctx, []string{"rm/video"}, 20); err != nil {
		t.Fatal(err)
	}
	if got := rm.peer.Received(); len(got) != 0 {
		t.Fatalf("the rm received %v from an observer", got)
	}
}

// TestICERestart: a server-driven ICE restart renegotiates and media
// keeps flowing.
func TestICERestart(t *testing.T) {
	s := newSFU(t)
	room, err := s.NewRoom("room-3")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, b := join(t, room, "a", false), join(t, room, "b", false)
	for _, l := range []*link{a, b} {
		if _, err := l.peer.AddTrack("audio", "audio"); err != nil {
			t.Fatal(err)
		}
		if err := l.peer.Offer(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.peer.WaitPackets(ctx, []string{"a/audio"}, 10); err != nil {
		t.Fatal(err)
	}
	ufrag := func() string {
		d := b.part.PeerConnection().LocalDescription()
		sd, _ := d.Unmarshal()
		for _, m := range sd.MediaDescriptions {
			if v, ok := m.Attribute("ice-ufrag"); ok {
				return v
			}
		}
		return ""
	}
	old := ufrag()
	b.part.RestartICE()
	n := b.peer.Received()["a/audio"]
	if err := b.peer.WaitPackets(ctx, []string{"a/audio"}, n+25); err != nil {
		t.Fatal(err)
	}
	if now := ufrag(); now == old || now == "" {
		t.Fatalf("ice-ufrag %q after restart, was %q", now, old)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  sfu.Config
		bad  []string
	}{
		{"defaults", sfu.Config{}, nil},
		{"everything wrong", sfu.Config{UDPAddr: "nope", PublicIP: "::1", SubscriberQueue: -1,
			ICEServers: []sfu.ICEServer{{}, {URLs: []string{"http://x"}}}},
			[]string{"udp_addr", "public_ip", "subscriber_queue", "ice_servers[0].urls", "ice_servers[1].urls"}},
		{"turn", sfu.Config{PublicIP: "203.0.113.7", ICEServers: []sfu.ICEServer{{URLs: []string{"turn:turn.example:3478?transport=udp"}, Username: "u", Credential: "c"}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Defaults().Validate()
			if len(tc.bad) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, sfu.ErrConfig) {
				t.Fatalf("%v, want ErrConfig", err)
			}
			for _, f := range tc.bad {
				if !containsField(err, f) {
					t.Errorf("no problem named %s in %v", f, err)
				}
			}
		})
	}
}

func containsField(err error, field string) bool {
	return err != nil && strings.Contains(err.Error(), field+":")
}
