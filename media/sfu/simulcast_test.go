package sfu_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/airbranch/airbranch/media/sfu"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// stream records what a subscriber receives of one track: the layer
// marker of each packet and whether the sequence numbers, timestamps and
// SSRC make one continuous stream.
type stream struct {
	mu      sync.Mutex
	markers []byte
	ssrc    uint32
	lastSeq uint16
	lastTS  uint32
	breaks  []string
}

func (s *stream) add(p *rtp.Packet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(p.Payload) <= sfutest.LayerMarkerOffset {
		s.breaks = append(s.breaks, "short payload")
		return
	}
	if len(s.markers) > 0 {
		if p.SSRC != s.ssrc {
			s.breaks = append(s.breaks, fmt.Sprintf("ssrc %d after %d", p.SSRC, s.ssrc))
		}
		if p.SequenceNumber != s.lastSeq+1 {
			s.breaks = append(s.breaks, fmt.Sprintf("seq %d after %d", p.SequenceNumber, s.lastSeq))
		}
		if int32(p.Timestamp-s.lastTS) <= 0 {
			s.breaks = append(s.breaks, fmt.Sprintf("timestamp %d after %d", p.Timestamp, s.lastTS))
		}
	}
	s.ssrc, s.lastSeq, s.lastTS = p.SSRC, p.SequenceNumber, p.Timestamp
	s.markers = append(s.markers, p.Payload[sfutest.LayerMarkerOffset])
}

// tail returns the markers received since index from, and the count.
func (s *stream) since(from int) ([]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from > len(s.markers) {
		from = len(s.markers)
	}
	return append([]byte(nil), s.markers[from:]...), len(s.markers)
}

func (s *stream) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.breaks...)
}

// waitLayer waits until the last n packets of s are all of layer m.
func waitLayer(ctx context.Context, p *sfutest.Peer, s *stream, m byte, n int) error {
	return p.WaitFor(ctx, fmt.Sprintf("%d packets of layer %q", n, m), func() bool {
		all, _ := s.since(0)
		if len(all) < n {
			return false
		}
		for _, b := range all[len(all)-n:] {
			if b != m {
				return false
			}
		}
		return true
	})
}

// TestSimulcastLayerPerSubscriber: a publisher sends three VP8 simulcast
// layers q, h, f (each packet marked with its layer); two subscribers
// receive the highest, f; one asks for q and, after the key frame the SFU
// requests of q, receives only q while the other keeps only f; when the
// publisher stops sending f, the other moves to h; each sees one
// continuous stream (one SSRC, consecutive sequence numbers, increasing
// timestamps) across the switches.
func TestSimulcastLayerPerSubscriber(t *testing.T) {
	s := newSFU(t)
	room, err := s.NewRoom("room-simulcast")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pub := join(t, room, "pub", false)
	sim, err := pub.peer.AddSimulcast("cam", "q", "h", "f")
	if err != nil {
		t.Fatal(err)
	}
	subs := map[string]*link{}
	streams := map[string]*stream{}
	for _, n := range []string{"a", "b"} {
		l := join(t, room, n, false)
		if _, err := l.peer.AddTrack("audio", "mic"); err != nil {
			t.Fatal(err)
		}
		st := &stream{}
		l.peer.Observe(func(key string, p *rtp.Packet) {
			if key == "pub/cam" {
				st.add(p)
			}
		})
		subs[n], streams[n] = l, st
	}
	for _, l := range []*link{pub, subs["a"], subs["b"]} {
		if err := l.peer.Offer(false); err != nil {
			t.Fatal(err)
		}
	}

	// By default both get the highest layer.
	for n, l := range subs {
		if err := waitLayer(ctx, l.peer, streams[n], 'f', 30); err != nil {
			t.Fatal(err)
		}
		cur, all, err := l.part.Layer("pub", "cam")
		if err != nil || cur != "f" || fmt.Sprint(all) != "[q h f]" {
			t.Fatalf("%s: Layer = %q %v %v, want f [q h f]", n, cur, all, err)
		}
	}

	// b asks for q: the SFU asks q for a key frame and switches there.
	if err := subs["b"].part.SelectLayer("pub", "cam", "x"); !errors.Is(err, sfu.ErrNoLayer) {
		t.Fatalf("SelectLayer x: %v, want ErrNoLayer", err)
	}
	if err := subs["b"].part.SelectLayer("pub", "nope", "q"); !errors.Is(err, sfu.ErrNotFound) {
		t.Fatalf("SelectLayer of an unknown track: %v, want ErrNotFound", err)
	}
	plis := sim.PLIs("q")
	if err := subs["b"].part.SelectLayer("pub", "cam", "q"); err != nil {
		t.Fatal(err)
	}
	if err := waitLayer(ctx, subs["b"].peer, streams["b"], 'q', 30); err != nil {
		t.Fatal(err)
	}
	if sim.PLIs("q") <= plis {
		t.Error("no PLI reached layer q on the switch")
	}
	_, markA := streams["a"].since(0)
	_, markB := streams["b"].since(0)
	if err := waitLayer(ctx, subs["a"].peer, streams["a"], 'f', 30); err != nil {
		t.Fatal(err)
	}
	if got, _ := streams["a"].since(markA); bytesOther(got, 'f') {
		t.Errorf("a received %q while on f", got)
	}
	if got, _ := streams["b"].since(markB); bytesOther(got, 'q') {
		t.Errorf("b received %q after switching to q", got)
	}

	// The publisher drops f: a moves to h; b stays on q.
	sim.Pause("f", true)
	if err := waitLayer(ctx, subs["a"].peer, streams["a"], 'h', 30); err != nil {
		t.Fatal(err)
	}
	if got, _ := streams["b"].since(markB); bytesOther(got, 'q') {
		t.Errorf("b received %q while on q", got)
	}
	// b asks for the best again, which is h now.
	if err := subs["b"].part.SelectLayer("pub", "cam", ""); err != nil {
		t.Fatal(err)
	}
	if err := waitLayer(ctx, subs["b"].peer, streams["b"], 'h', 30); err != nil {
		t.Fatal(err)
	}

	for n, st := range streams {
		all, _ := st.since(0)
		if p := st.problems(); len(p) > 0 {
			t.Errorf("%s: stream not continuous over %d packets: %v", n, len(all), p)
		}
	}
}

// bytesOther reports whether b holds a byte other than m.
func bytesOther(b []byte, m byte) bool {
	for _, x := range b {
		if x != m {
			return true
		}
	}
	return false
}
