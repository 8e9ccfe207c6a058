package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// TestCallQueueMenuCallback: a caller offering PCMA is answered with PCMA,
// hears the welcome prompt as 20 ms PCMA frames, presses 1 as an RFC 4733
// event (sent four times with one timestamp: reported once) to switch to
// Chinese, then 2 by SIP INFO to ask for a callback; the gateway says
// goodbye and hangs up, and the call ends as a callback.
func TestCallQueueMenuCallback(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	d := caller.invite(ctx, s, "91234567", caller.sdp("8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"))
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	n := answerNegotiation(t, d.InviteResponse.Body())
	if n.Codec != media.CodecPCMA || n.EventPT != 101 {
		t.Fatalf("answer %+v, want PCMA with telephone-event 101", n)
	}
	in := sink.lastIncoming()
	if in.From != (conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"}) || in.Channel != conversation.ChannelVoice ||
		in.ChannelAccount != "+85221234567" || in.ProviderID != d.InviteRequest.CallID().Value() {
		t.Errorf("incoming %+v", in)
	}
	h, payload, from := caller.readRTP()
	if h.PayloadType != 8 || len(payload) != media.FrameSamples || from != n.Remote {
		t.Fatalf("welcome frame %v (%d bytes) from %s, want PCMA 160 bytes from %s", h, len(payload), from, n.Remote)
	}

	event := []byte{1, 0x0a, 0, 160}
	caller.sendRTP(n.Remote, 101, 1, 8000, true, event)
	event[1] |= 0x80
	for i := range 3 {
		caller.sendRTP(n.Remote, 101, uint16(2+i), 8000, false, event)
	}
	if got := sink.waitEvent(t, "menu:"); got != "menu:language:zh" {
		t.Fatalf("menu event %q", got)
	}

	info := sip.NewRequest(sip.INFO, d.InviteResponse.Contact().Address)
	info.SetBody([]byte("Signal=2\r\nDuration=160\r\n"))
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	res, err := d.Do(ctx, info)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	if got := sink.waitEvent(t, "menu:"); got != "menu:callback:" {
		t.Fatalf("menu event %q", got)
	}
	caller.waitBye()
	if got := sink.waitEvent(t, "ended:"); got != "ended:callback" {
		t.Fatalf("end %q", got)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if string(sink.digits) != "12" {
		t.Errorf("digits %q, want \"12\" (the event once, then INFO)", sink.digits)
	}
}

// TestCallLateOffer: an INVITE without SDP gets the gateway's offer in the
// 200 OK; the caller's answer in the ACK picks PCMU, which the prompts then
// use. The caller's BYE while queued is an abandonment.
func TestCallLateOffer(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := caller.invite(ctx, s, "anonymous", nil)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	offer := answerNegotiation(t, d.InviteResponse.Body())
	if offer.Codec != media.CodecPCMU || offer.EventPT != media.DefaultEventPayloadType {
		t.Fatalf("gateway offer %+v", offer)
	}
	ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
	ack.SetBody(caller.sdp("0"))
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := d.WriteAck(ctx, ack); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := caller.readRTP(); h.PayloadType != 0 {
		t.Fatalf("prompt sent as %v, want PCMU", h)
	}
	if in := sink.lastIncoming(); in.From.Kind != conversation.AddressSIP {
		t.Errorf("anonymous caller as %v", in.From)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q", got)
	}
}

// TestCallRefusals covers answers that create no call.
func TestCallRefusals(t *testing.T) {
	tests := []struct {
		name       string
		cfg        func(*Config)
		sinkErr    error
		body       func(p *peer) []byte
		wantStatus int
		wantHeader string
	}{
		{name: "no common codec", body: func(p *peer) []byte { return p.sdp("18", "a=rtpmap:18 G729/8000") }, wantStatus: 488},
		{name: "srtp only", body: func(p *peer) []byte { return []byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n") }, wantStatus: 488},
		{name: "malformed sdp", body: func(p *peer) []byte { return []byte("this is not sdp\r\n") }, wantStatus: 400},
		{name: "store unavailable", sinkErr: fmt.Errorf("store: %w", conversation.ErrUnavailable), wantStatus: 503, wantHeader: "Retry-After"},
		{name: "sink refuses", sinkErr: errors.New("no"), wantStatus: 480},
		{name: "unknown source", cfg: func(c *Config) { c.Trunks[0].Sources = []string{"192.0.2.0/24"} }, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			sink := newFakeSink()
			sink.incomingErr = func(conversation.Incoming) error { return tt.sinkErr }
			s := startServer(t, cfg, sink, nil)
			caller := newPeer(t, "caller")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			body := caller.sdp("0")
			if tt.body != nil {
				body = tt.body(caller)
			}
			d := caller.invite(ctx, s, "91234567", body)
			err := d.WaitAnswer(ctx, sipgo.AnswerOptions{})
			var rej *sipgo.ErrDialogResponse
			if !errors.As(err, &rej) || rej.Res.StatusCode != tt.wantStatus {
				t.Fatalf("answer %v, want %d", err, tt.wantStatus)
			}
			if tt.wantHeader != "" && rej.Res.GetHeader(tt.wantHeader) == nil {
				t.Errorf("%d without %s", tt.wantStatus, tt.wantHeader)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.ended) != 0 {
				t.Errorf("refused call reported ended: %v", sink.ended)
			}
		})
	}
}

// TestCallCancelledWhileRinging: with ringing before answer, a CANCEL gets
// 487 for the INVITE and the conversation ends abandoned.
func TestCallCancelledWhileRinging(t *testing.T) {
	cfg := testConfig()
	cfg.RingBeforeAnswer = 20 * time.Second
	sink := newFakeSink()
	s := startServer(t, cfg, sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := caller.invite(ctx, s, "91234567", caller.sdp("0"))
	ringing := make(chan struct{})
	ringCtx, stopRinging := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- d.WaitAnswer(ringCtx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
			if res.StatusCode == 180 {
				close(ringing)
			}
			return nil
		}})
	}()
	select {
	case <-ringing:
	case <-time.After(10 * time.Second):
		t.Fatal("no 180 Ringing")
	}
	stopRinging() // sipgo sends CANCEL and waits for the 487
	if err := <-errc; err == nil {
		t.Fatal("cancelled INVITE answered")
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q", got)
	}
}

// TestAnswerAddressAndRefresh: the SDP answer names the configured public
// media IP and a port of the configured RTP range, and an in-dialog
// re-INVITE (session refresh) gets the same SDP back.
func TestAnswerAddressAndRefresh(t *testing.T) {
	cfg := testConfig()
	cfg.PublicMediaIP = "203.0.113.10"
	lo := uint16(freePort(t))
	lo &^= 1
	if lo > 65000 {
		lo = 42000
	}
	cfg.RTPPortMin, cfg.RTPPortMax = lo, lo+9
	sink := newFakeSink()
	s := startServer(t, cfg, sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := caller.invite(ctx, s, "91234567", caller.sdp("0"))
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	n := answerNegotiation(t, d.InviteResponse.Body())
	if n.Remote.Addr().String() != "203.0.113.10" || n.Remote.Port() < cfg.RTPPortMin || n.Remote.Port() > cfg.RTPPortMax || n.Remote.Port()%2 != 0 {
		t.Errorf("answer address %s, want 203.0.113.10 and an even port in %d-%d", n.Remote, cfg.RTPPortMin, cfg.RTPPortMax)
	}
	caller.readRTP() // the welcome prompt: the call is queued
	reinvite := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
	reinvite.SetBody(caller.sdp("0"))
	reinvite.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := d.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 || string(res.Body()) != string(d.InviteResponse.Body()) {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q", got)
	}
}

// TestCallAnnouncesQueuePosition: after the welcome prompt and a stretch of
// music on hold, the caller hears the announcement of the position the
// sink reports (PCMU, so the frames are the prompt's bytes); DTMF by INFO
// with application/dtmf is reported too.
func TestCallAnnouncesQueuePosition(t *testing.T) {
	cfg := testConfig()
	cfg.AnnounceEvery = 200 * time.Millisecond
	sink := newFakeSink()
	sink.status = QueueStatus{Position: 2}
	s := startServer(t, cfg, sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, n, _ := callQueued(t, ctx, s, sink, caller, "0")
	if n.Codec != media.CodecPCMU {
		t.Fatalf("codec %s", n.Codec)
	}
	info := sip.NewRequest(sip.INFO, d.InviteResponse.Contact().Address)
	info.SetBody([]byte("7"))
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf"))
	if res, err := d.Do(ctx, info); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	if got := sink.waitEvent(t, "dtmf:"); got != "dtmf:7" {
		t.Errorf("dtmf %q", got)
	}
	want := prompts.Get(prompts.English, prompts.Position2)[:media.FrameSamples]
	welcome := len(prompts.Get(prompts.English, prompts.Welcome)) / media.FrameSamples
	for i := 0; ; i++ {
		if i > welcome+500 {
			t.Fatal("no position announcement heard")
		}
		if _, payload, _ := caller.readRTP(); bytes.Equal(payload, want) {
			break
		}
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q", got)
	}
}

// TestCallRTPTimeout: a caller that sends no RTP is hung up after
// RTPTimeout and the call ends as failed.
func TestCallRTPTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.RTPTimeout = time.Second
	sink := newFakeSink()
	s := startServer(t, cfg, sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, _, _ := callQueued(t, ctx, s, sink, caller, "0")
	if got := caller.waitBye(); got != d.InviteRequest.CallID().Value() {
		t.Errorf("BYE for %q", got)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:failed" {
		t.Fatalf("end %q", got)
	}
}

// TestDrainRefusesNewCalls: once draining, the server answers new
// INVITEs and OPTIONS keep-alives with 503 and Retry-After, while the call
// already in queue goes on until its caller hangs up.
func TestDrainRefusesNewCalls(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller, late := newPeer(t, "caller"), newPeer(t, "late")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, _, _ := callQueued(t, ctx, s, sink, caller, "0")
	s.Drain()

	options := []byte("OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-drain-1\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: drain-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	if line, resp := rawExchange(t, s.Addr("udp"), options, 2*time.Second); line != "SIP/2.0 503 Service Unavailable" || !strings.Contains(resp, "Retry-After: 5") {
		t.Errorf("OPTIONS while draining: %q\n%s", line, resp)
	}
	err := late.invite(ctx, s, "91234568", late.sdp("0")).WaitAnswer(ctx, sipgo.AnswerOptions{})
	var rej *sipgo.ErrDialogResponse
	if !errors.As(err, &rej) || rej.Res.StatusCode != 503 {
		t.Fatalf("INVITE while draining: %v, want 503", err)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("the queued call did not go on: %v", err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q", got)
	}
}
