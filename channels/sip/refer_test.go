package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// TestReferFromPhone: the RM's phone (sipgo peer) on a bridged call sends
// REFER (RFC 3515) to "nobody": 202, the sink declines, the phone gets a
// NOTIFY "603 Declined" and the call stays bridged (the caller's audio
// still reaches the phone). A REFER to rm-pb-02 is carried out by the sink
// with Server.Transfer: the phone gets NOTIFY "200 OK", then a BYE, and
// the caller hears the transfer prompt. A REFER from the caller's side is
// refused with 403.
func TestReferFromPhone(t *testing.T) {
	sink := newFakeSink()
	var s *Server
	sink.transfer = func(id conversation.ConversationID, rm conversation.RMID, target string) error {
		if target != "rm-pb-02" {
			return errors.New("unknown target")
		}
		return s.Transfer(context.Background(), id)
	}
	s = startServer(t, testConfig(), sink, nil)
	caller, phone := newPeer(t, "caller"), newPeer(t, "rm-pb-01")
	phone.answer = func([]byte) (int, []byte) { return 200, phone.sdp("0", "a=rtpmap:0 PCMU/8000") }
	if res := phone.register(t, s, "rm-pb-01", "secret-1", "", fmt.Sprintf("<sip:rm-pb-01@127.0.0.1:%d>", phone.port)); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, n, id := callQueued(t, ctx, s, sink, caller, "0")
	if err := s.Bridge(ctx, id, "rm-pb-01"); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	audio := make([]byte, media.FrameSamples)
	for i := range audio {
		audio[i] = byte(i*3 + 7)
	}
	stop := talker(t, caller, n, audio)
	defer stop()
	readUntil(t, phone, 0, audio)

	phone.mu.Lock()
	uas := phone.uas[0]
	phone.mu.Unlock()
	refer := func(target string) int {
		req := sip.NewRequest(sip.REFER, uas.InviteRequest.Contact().Address)
		req.AppendHeader(sip.NewHeader("Refer-To", "<sip:"+target+"@127.0.0.1>"))
		res, err := uas.Do(ctx, req)
		if err != nil {
			t.Fatalf("refer: %v", err)
		}
		return res.StatusCode
	}
	waitNotify := func() string {
		select {
		case b := <-phone.notifies:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no NOTIFY to the phone")
			return ""
		}
	}
	if code := refer("nobody"); code != 202 {
		t.Fatalf("refer to nobody: %d, want 202", code)
	}
	if got := waitNotify(); !strings.HasPrefix(got, "SIP/2.0 603") {
		t.Fatalf("notify %q, want 603", got)
	}
	readUntil(t, phone, 0, audio) // still bridged

	// The caller's side may not transfer.
	req := sip.NewRequest(sip.REFER, d.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:rm-pb-02@127.0.0.1>"))
	if res, err := d.Do(ctx, req); err != nil || res.StatusCode != 403 {
		t.Fatalf("refer from the caller: %v %v, want 403", res, err)
	}

	if code := refer("rm-pb-02"); code != 202 {
		t.Fatalf("refer to rm-pb-02: %d, want 202", code)
	}
	if got := waitNotify(); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("notify %q, want 200", got)
	}
	phone.waitBye()
	readUntil(t, caller, 0, prompts.Get(prompts.English, prompts.Transfer)[:media.FrameSamples])
	stop()
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:abandoned" {
		t.Fatalf("end %q (the caller left while waiting for the transfer)", got)
	}
}
