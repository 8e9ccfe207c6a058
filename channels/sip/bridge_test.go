package sip

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/zaf/g711"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// callQueued places a call from caller offering formats and returns its
// dialog, the gateway's negotiation and the conversation id.
func callQueued(t *testing.T, ctx context.Context, s *Server, sink *fakeSink, caller *peer, formats string, attrs ...string) (*sipgo.DialogClientSession, media.Negotiation, conversation.ConversationID) {
	t.Helper()
	d := caller.invite(ctx, s, "91234567", caller.sdp(formats, attrs...))
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	id := sink.waitEvent(t, "incoming:")[len("incoming:"):]
	return d, answerNegotiation(t, d.InviteResponse.Body()), conversation.ConversationID(id)
}

// readUntil reads RTP at p until a packet whose payload equals want (music
// on hold sent before the bridge may come first), failing after 200.
func readUntil(t *testing.T, p *peer, pt uint8, want []byte) {
	t.Helper()
	for range 200 {
		h, payload, _ := p.readRTP()
		if h.PayloadType == pt && bytes.Equal(payload, want) {
			return
		}
	}
	t.Fatalf("%s never received the relayed payload with pt %d", p.user, pt)
}

// TestBridgeTranscodesAndEndsBoth: a PCMA caller in queue is bridged to a
// registered RM phone that answers PCMU only; audio is relayed through the
// gateway and transcoded byte for byte both ways, a telephone-event passes
// through with the RM's payload type, and the RM's BYE ends the caller's
// leg too, completing the call.
func TestBridgeTranscodesAndEndsBoth(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller, phone := newPeer(t, "caller"), newPeer(t, "rm-pb-01")
	phone.answer = func(offer []byte) (int, []byte) {
		return 200, phone.sdp("0 96", "a=rtpmap:0 PCMU/8000", "a=rtpmap:96 telephone-event/8000")
	}
	if res := phone.register(t, s, "rm-pb-01", "secret-1", "", "<sip:rm-pb-01@127.0.0.1:"+itoa(phone.port)+">"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, n, id := callQueued(t, ctx, s, sink, caller, "8 101", "a=rtpmap:101 telephone-event/8000")

	if err := s.Bridge(ctx, "no-such", "rm-pb-01"); !errors.Is(err, ErrUnknownCall) {
		t.Errorf("bridge unknown: %v", err)
	}
	if err := s.Bridge(ctx, id, "rm-pb-02"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("bridge to unregistered rm: %v", err)
	}
	if err := s.Bridge(ctx, id, "rm-pb-01"); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	phone.mu.Lock()
	offer := phone.invites[0].Body()
	phone.mu.Unlock()
	if o := answerNegotiation(t, offer); o.Codec != media.CodecPCMA || o.EventPT != media.DefaultEventPayloadType {
		t.Errorf("offer to rm %+v, want the caller's PCMA first", o)
	}
	if err := s.Bridge(ctx, id, "rm-pb-01"); !errors.Is(err, ErrNotQueued) {
		t.Errorf("second bridge: %v", err)
	}
	gwToPhone := answerNegotiation(t, offer).Remote

	// RM's phone speaks first (latching its leg), in PCMU.
	rmAudio := make([]byte, media.FrameSamples)
	for i := range rmAudio {
		rmAudio[i] = byte(i * 3)
	}
	for i := range 3 {
		phone.sendRTP(gwToPhone, 0, uint16(10+i), uint32(160*i), i == 0, rmAudio)
	}
	readUntil(t, caller, 8, g711.Ulaw2Alaw(rmAudio))

	callerAudio := make([]byte, media.FrameSamples)
	for i := range callerAudio {
		callerAudio[i] = byte(200 - i)
	}
	caller.sendRTP(n.Remote, 8, 1, 0, true, callerAudio)
	readUntil(t, phone, 0, g711.Alaw2Ulaw(callerAudio))
	event := []byte{5, 0x8a, 0, 160}
	caller.sendRTP(n.Remote, 101, 2, 160, false, event)
	readUntil(t, phone, 96, event)

	phone.mu.Lock()
	uas := phone.uas[0]
	phone.mu.Unlock()
	if err := uas.Bye(ctx); err != nil {
		t.Fatalf("rm bye: %v", err)
	}
	if got := caller.waitBye(); got != d.InviteRequest.CallID().Value() {
		t.Errorf("BYE for call-id %q", got)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
		t.Fatalf("end %q", got)
	}
}

// TestBridgeNoAnswerAndCallerLeaves: an RM phone that refuses leaves the
// caller queued (ErrNoAnswer with the 486); the caller's BYE then ends the
// call as abandoned.
func TestBridgeNoAnswerAndCallerLeaves(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller, phone := newPeer(t, "caller"), newPeer(t, "rm-pb-01")
	if res := phone.register(t, s, "rm-pb-01", "secret-1", "", "<sip:rm-pb-01@127.0.0.1:"+itoa(phone.port)+">"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, _, id := callQueued(t, ctx, s, sink, caller, "0")
	err := s.Bridge(ctx, id, "rm-pb-01")
	var rej *RejectError
	if !errors.Is(err, ErrNoAnswer) || !errors.As(err, &rej) || rej.Status != 486 {
		t.Fatalf("bridge to a busy phone: %v", err)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q", got)
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// TestBridgeRingTimeout: a phone that rings and never answers is
// cancelled after RMRingTimeout (phone-first: a decline) and the caller
// stays queued, so a second phone can take the call.
func TestBridgeRingTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.RMRingTimeout = 500 * time.Millisecond
	sink := newFakeSink()
	s := startServer(t, cfg, sink, nil)
	caller, slow, quick := newPeer(t, "caller"), newPeer(t, "rm-pb-01"), newPeer(t, "rm-pb-02")
	slow.answer = func([]byte) (int, []byte) { return 180, nil }
	quick.answer = func([]byte) (int, []byte) { return 200, quick.sdp("0") }
	if res := slow.register(t, s, "rm-pb-01", "secret-1", "", "<sip:rm-pb-01@127.0.0.1:"+itoa(slow.port)+">"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if res := quick.register(t, s, "rm-pb-02", "secret-2", "", "<sip:rm-pb-02@127.0.0.1:"+itoa(quick.port)+">"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _, id := callQueued(t, ctx, s, sink, caller, "0")
	if err := s.Bridge(ctx, id, "rm-pb-01"); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("bridge to a phone that only rings: %v", err)
	}
	if err := s.Bridge(ctx, id, "rm-pb-02"); err != nil {
		t.Fatalf("bridge to the second rm: %v", err)
	}
	if err := s.Hangup(ctx, id); err != nil {
		t.Fatal(err)
	}
	caller.waitBye()
	quick.waitBye()
	if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
		t.Fatalf("end %q", got)
	}
}

// TestBridgeCancelWaitsForProvisional: when ringing stops before the
// phone sent any provisional response, the CANCEL is held back until its
// 180 Ringing arrives (RFC 3261 §9.1) instead of the INVITE being dropped,
// so the phone stops ringing; the caller stays queued.
func TestBridgeCancelWaitsForProvisional(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller, slow := newPeer(t, "caller"), newPeer(t, "rm-pb-01")
	slow.answer = func([]byte) (int, []byte) {
		time.Sleep(300 * time.Millisecond) // the 180 comes after Bridge gave up
		return 180, nil
	}
	if res := slow.register(t, s, "rm-pb-01", "secret-1", "", "<sip:rm-pb-01@127.0.0.1:"+itoa(slow.port)+">"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, id := callQueued(t, ctx, s, sink, caller, "0")
	ringCtx, stopRing := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stopRing()
	if err := s.Bridge(ringCtx, id, "rm-pb-01"); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("bridge given up before the 180: %v", err)
	}
	select {
	case <-slow.rung: // its INVITE transaction ended (Timer I after the 487 that answers a CANCEL): without a CANCEL it rings on
	case <-time.After(10 * time.Second):
		t.Fatal("the phone was never cancelled: it rings on")
	}
	if err := s.Hangup(ctx, id); err != nil {
		t.Fatalf("the caller is no longer queued: %v", err)
	}
}
