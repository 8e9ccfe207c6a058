package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
)

// rawInvite is an INVITE from 127.0.0.1 with Call-ID callID and Via branch
// branch, offering PCMU (or only G.729 when g729), as a provider's retry
// would resend it in a new transaction.
func rawInvite(s *Server, callID, branch string, g729 bool) []byte {
	gw := s.Addr("udp").String()
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
	if g729 {
		sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
	}
	return []byte(fmt.Sprintf("INVITE sip:+85221234567@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK%s\r\n"+
		"From: <sip:91234567@127.0.0.1>;tag=retry1\r\nTo: <sip:+85221234567@%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:caller@127.0.0.1:5099>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		gw, branch, gw, callID, len(sdp), sdp))
}

// TestRefusalReplayed: a refused INVITE sent again in a new transaction
// (same Call-ID, From tag and CSeq, another branch: a provider's retry)
// gets the same final answer without reaching the sink again; a 503
// (store unavailable) is not replayed, so the retry is tried anew.
func TestRefusalReplayed(t *testing.T) {
	tests := []struct {
		name      string
		sinkErr   error
		g729      bool
		want      string
		sinkCalls int
	}{
		{name: "480 sink refused", sinkErr: errors.New("no"), want: "SIP/2.0 480 ", sinkCalls: 1},
		{name: "488 no common codec", g729: true, want: "SIP/2.0 488 ", sinkCalls: 0},
		{name: "503 not replayed", sinkErr: fmt.Errorf("store: %w", conversation.ErrUnavailable), want: "SIP/2.0 503 ", sinkCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newFakeSink()
			var calls atomic.Int32
			sink.incomingErr = func(conversation.Incoming) error { calls.Add(1); return tt.sinkErr }
			s := startServer(t, testConfig(), sink, nil)
			callID := "retry-" + strings.ReplaceAll(tt.name, " ", "-")
			for i, branch := range []string{"first", "retry"} {
				line, _ := rawExchange(t, s.Addr("udp"), rawInvite(s, callID, branch, tt.g729), 3*time.Second)
				if !strings.HasPrefix(line, tt.want) {
					t.Fatalf("attempt %d: %q, want %q", i+1, line, tt.want)
				}
			}
			if got := int(calls.Load()); got != tt.sinkCalls {
				t.Errorf("sink called %d times, want %d", got, tt.sinkCalls)
			}
		})
	}
}

// TestUpdateRefresh: an UPDATE in a queued call's dialog (RFC 3311) as a
// session refresh (RFC 4028) gets 200 with Session-Expires naming the
// refresher; an UPDATE for no dialog gets 481.
func TestUpdateRefresh(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, _, _ := callQueued(t, ctx, s, sink, caller, "0")
	req := sip.NewRequest(sip.UPDATE, d.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Session-Expires", "1800"))
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if h := res.GetHeader("Session-Expires"); res.StatusCode != 200 || h == nil || h.Value() != "1800;refresher=uac" {
		t.Fatalf("update: %d, Session-Expires %v", res.StatusCode, h)
	}
	gw := s.Addr("udp").String()
	msg := "UPDATE sip:airbranch@" + gw + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5098;branch=z9hG4bKupd1\r\n" +
		"From: <sip:a@127.0.0.1>;tag=x1\r\nTo: <sip:b@127.0.0.1>;tag=y1\r\nCall-ID: no-such-dialog\r\nCSeq: 5 UPDATE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if line, _ := rawExchange(t, s.Addr("udp"), []byte(msg), 3*time.Second); !strings.HasPrefix(line, "SIP/2.0 481 ") {
		t.Errorf("update without dialog: %q", line)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	sink.waitEvent(t, "ended:")
}
