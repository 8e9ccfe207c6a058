package sip

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// partySink is the fake sink that also hears who ended each answered
// call (EndedBySink).
type partySink struct {
	*fakeSink
	by chan Party
}

func (p *partySink) CallEndedBy(ctx context.Context, id conversation.ConversationID, reason EndReason, by Party) error {
	p.by <- by
	return p.CallEnded(ctx, id, reason)
}

// TestBridgeLocal: a PCMU caller in queue is bridged to an RTP endpoint
// of the gateway's own (a softphone's WebRTC leg, here a UDP socket):
// audio passes both ways unchanged (no transcoding), and the call ends
// from either side with the party that ended it: the RM's Hangup sends
// the caller a BYE (ended by the RM); the caller's BYE closes Done
// (ended by the client).
func TestBridgeLocal(t *testing.T) {
	for _, tc := range []struct {
		name string
		rm   bool // the RM hangs up, else the caller
		want Party
	}{{"the rm hangs up", true, PartyRM}, {"the caller hangs up", false, PartyClient}} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &partySink{fakeSink: newFakeSink(), by: make(chan Party, 1)}
			s := startServer(t, testConfig(), sink, nil)
			caller := newPeer(t, "caller")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d, n, id := callQueued(t, ctx, s, sink.fakeSink, caller, "0 101", "a=rtpmap:101 telephone-event/8000")
			if !s.Holds(id) || s.Holds("no-such") {
				t.Error("Holds is wrong")
			}

			ep, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer ep.Close()
			epAddr := ep.LocalAddr().(*net.UDPAddr).AddrPort()
			if _, err := s.BridgeLocal(ctx, "no-such", "rm-pb-01", epAddr); !errors.Is(err, ErrUnknownCall) {
				t.Errorf("unknown call: %v", err)
			}
			b, err := s.BridgeLocal(ctx, id, "rm-pb-01", epAddr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.BridgeLocal(ctx, id, "rm-pb-01", epAddr); !errors.Is(err, ErrNotQueued) {
				t.Errorf("second bridge: %v", err)
			}

			// The endpoint speaks (latching the leg); the caller hears it unchanged.
			rmAudio := bytes.Repeat([]byte{0x33}, media.FrameSamples)
			pkt := make([]byte, media.RTPHeaderLen+media.FrameSamples)
			for i := range 3 {
				media.PutRTPHeader(pkt, i == 0, media.PayloadPCMU, uint16(i), uint32(i*media.FrameSamples), 0xe9)
				copy(pkt[media.RTPHeaderLen:], rmAudio)
				if _, err := ep.WriteToUDPAddrPort(pkt, b.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			readUntil(t, caller, 0, rmAudio)
			// The caller speaks; the endpoint hears it unchanged, in PCMU.
			callerAudio := bytes.Repeat([]byte{0x44}, media.FrameSamples)
			caller.sendRTP(n.Remote, 0, 1, 0, true, callerAudio)
			buf := make([]byte, 1500)
			_ = ep.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := ep.Read(buf)
			if err != nil {
				t.Fatalf("endpoint read: %v", err)
			}
			h, err := media.ParseRTPHeader(buf[:m])
			if err != nil || h.PayloadType != media.PayloadPCMU || !bytes.Equal(buf[h.PayloadOffset:h.PayloadEnd], callerAudio) {
				t.Fatalf("endpoint got %v %v", h, err)
			}
			// The relay counts a packet after forwarding it: the last of the
			// endpoint's three may still be on its way when the caller heard
			// the first.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				callerSt, rmSt := b.Stats()
				if callerSt.PacketsIn >= 1 && rmSt.PacketsIn >= 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("stats caller %+v rm %+v", callerSt, rmSt)
					break
				}
			}

			if tc.rm {
				b.Hangup()
				if got := caller.waitBye(); got != d.InviteRequest.CallID().Value() {
					t.Errorf("BYE for call-id %q", got)
				}
			} else if err := d.Bye(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-b.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("Done not closed")
			}
			if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
				t.Errorf("end %q", got)
			}
			if by := <-sink.by; by != tc.want {
				t.Errorf("ended by %s, want %s", by, tc.want)
			}
		})
	}
}

// TestBridgeLocalRecorded: a recorded call bridged to a softphone's
// endpoint plays the consent announcement to the caller first (the bridge
// returns no sooner than its length) and records both sides to a WAV file
// that the sink hears of when the call ends.
func TestBridgeLocalRecorded(t *testing.T) {
	sink := newFakeSink()
	sink.record = func(conversation.ConversationID) bool { return true }
	cfg := testConfig()
	cfg.RecordingDir = t.TempDir()
	s := startServer(t, cfg, sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, n, id := callQueued(t, ctx, s, sink, caller, "0 101", "a=rtpmap:101 telephone-event/8000")
	ep, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	start := time.Now()
	b, err := s.BridgeLocal(ctx, id, "rm-pb-01", ep.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	consent := time.Duration(len(prompts.Get(prompts.English, prompts.Recording))) * time.Second / media.SampleRate
	if took := time.Since(start); took < consent {
		t.Errorf("bridged after %s, before the %s consent announcement ended", took, consent)
	}
	pkt := make([]byte, media.RTPHeaderLen+media.FrameSamples)
	for i := range 10 {
		media.PutRTPHeader(pkt, i == 0, media.PayloadPCMU, uint16(i), uint32(i*media.FrameSamples), 0xe9)
		copy(pkt[media.RTPHeaderLen:], bytes.Repeat([]byte{0x33}, media.FrameSamples))
		if _, err := ep.WriteToUDPAddrPort(pkt, b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		caller.sendRTP(n.Remote, 0, uint16(100+i), uint32(i*media.FrameSamples), i == 0, bytes.Repeat([]byte{0x44}, media.FrameSamples))
		time.Sleep(20 * time.Millisecond)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	sink.waitEvent(t, "recorded")
	sink.mu.Lock()
	recs := append([]media.Recording(nil), sink.recorded...)
	sink.mu.Unlock()
	if len(recs) != 1 || recs[0].Packets[0] == 0 || recs[0].Packets[1] == 0 {
		t.Fatalf("recordings %+v, want one with both sides", recs)
	}
	if rate, ch, err := media.ReadWAV(recs[0].Path); err != nil || rate != media.SampleRate || len(ch) != 2 {
		t.Fatalf("wav %s: %d Hz, %d channels, %v", recs[0].Path, rate, len(ch), err)
	}
}
