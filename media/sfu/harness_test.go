package sfu_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/media/sfu"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// link joins a test peer to a room through in-memory signalling: two
// ordered queues, each pumped by a goroutine that the test waits for.
type link struct {
	t      testing.TB
	peer   *sfutest.Peer
	part   *sfu.Participant
	toPeer chan sfutest.Signal
	toSFU  chan sfutest.Signal
	done   chan struct{}
	wg     sync.WaitGroup
	// closing: the test is tearing the peer down; late errors are moot.
	closing atomic.Bool

	mu         sync.Mutex
	candidates []webrtc.ICECandidateInit // the server's
}

func newSFU(t testing.TB) *sfu.SFU {
	t.Helper()
	s, err := sfu.New(sfu.Config{UDPAddr: "127.0.0.1:0", KeyframeInterval: time.Nanosecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// join adds peer name to room and starts the pumps; the peer has not
// offered yet.
func join(t testing.TB, room *sfu.Room, name string, receiveOnly bool) *link {
	t.Helper()
	l := &link{t: t, toPeer: make(chan sfutest.Signal, 512), toSFU: make(chan sfutest.Signal, 512), done: make(chan struct{})}
	send := func(c chan sfutest.Signal, s sfutest.Signal) {
		select {
		case c <- s:
		case <-l.done:
		}
	}
	peer, err := sfutest.NewPeer(name, func(s sfutest.Signal) { send(l.toSFU, s) })
	if err != nil {
		t.Fatal(err)
	}
	l.peer = peer
	part, err := room.Join(sfu.ParticipantOptions{ID: name, ReceiveOnly: receiveOnly,
		OnDescription: func(d webrtc.SessionDescription) { send(l.toPeer, sfutest.Signal{Desc: &d}) },
		OnCandidate: func(c webrtc.ICECandidateInit) {
			l.mu.Lock()
			l.candidates = append(l.candidates, c)
			l.mu.Unlock()
			send(l.toPeer, sfutest.Signal{Cand: &c})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	l.part = part
	l.wg.Go(func() {
		for {
			select {
			case <-l.done:
				return
			case s := <-l.toSFU:
				var err error
				switch {
				case s.Cand != nil:
					err = part.AddCandidate(*s.Cand)
				case s.Desc.Type == webrtc.SDPTypeOffer:
					err = part.Offer(*s.Desc)
				default:
					err = part.Answer(*s.Desc)
				}
				if err != nil && !errors.Is(err, sfu.ErrClosed) && !l.closing.Load() {
					t.Errorf("%s → sfu: %v", name, err)
				}
			}
		}
	})
	l.wg.Go(func() {
		for {
			select {
			case <-l.done:
				return
			case s := <-l.toPeer:
				// A PeerConnection closed by the server (DTLS close_notify) refuses
				// late offers.
				if err := peer.Handle(s); err != nil && !l.closing.Load() && !errors.Is(err, webrtc.ErrConnectionClosed) {
					t.Errorf("sfu → %s: %v", name, err)
				}
			}
		}
	})
	t.Cleanup(l.close)
	return l
}

func (l *link) close() {
	select {
	case <-l.done:
		return
	default:
	}
	l.closing.Store(true)
	close(l.done)
	_ = l.peer.Close()
	l.wg.Wait()
}

// serverCandidates returns the host:port of the server's candidates.
func (l *link) serverCandidates() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.candidates {
		f := strings.Fields(c.Candidate) // candidate:foundation comp proto prio ip port typ host
		if len(f) >= 6 {
			out = append(out, f[4]+":"+f[5])
		}
	}
	return out
}
