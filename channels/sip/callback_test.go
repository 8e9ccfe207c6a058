package sip

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// TestSippCallback: a callback for rm-pb-01 (a sipp phone answering PCMA
// and echoing RTP, which hangs up 8 s after it answered) and the client
// +85291234567 behind the outbound trunk (a sipp UAS that challenges the
// INVITE with 401, verifies the digest credentials, the dialled number,
// From and P-Asserted-Identity carrying the bank's caller id, answers
// PCMU and plays a 440 Hz tone): the RM's phone is rung first, the client
// then, the two are bridged (the recording holds the client's tone on the
// left and the RM phone's echo of it on the right, so RTP went both
// ways), and the RM's BYE ends the client's leg and completes the call.
func TestSippCallback(t *testing.T) {
	sippPath(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rm_tone.pcap"), tonePcap(440, 3*time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	trunkPort := freePort(t)
	trunk := startSipp(t, dir, "trunk_callee_uas.xml", nil, trunkPort)
	cfg := testConfig()
	cfg.RecordingDir = filepath.Join(dir, "rec")
	cfg.Outbound = OutboundConfig{Addr: fmt.Sprintf("127.0.0.1:%d", trunkPort), CallerID: "+85230009999", Username: "airbranch-out", Password: "out-secret"}
	sink := newFakeSink()
	sink.record = func(conversation.ConversationID) bool { return true }
	reg := NewMemoryRegistrar()
	s := startServer(t, cfg, sink, reg)
	uasPort := freePort(t)
	phone := startSipp(t, dir, "rm_phone_uas.xml", nil, uasPort, "-rtp_echo", "-d", "8000")
	startSipp(t, dir, "rm_register.xml", s.Addr("udp"), freePort(t),
		"-s", "rm-pb-01", "-au", "rm-pb-01", "-ap", "secret-1", "-set", "uas_port", strconv.Itoa(uasPort)).wait(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := CallbackRequest{ConversationID: "conv-cb", RM: "rm-pb-01", To: "+85291234567"}
	if err := s.Callback(ctx, req); err != nil {
		t.Fatalf("callback: %v", err)
	}
	if err := s.Callback(ctx, req); !errors.Is(err, ErrCallInProgress) {
		t.Errorf("second callback: %v, want ErrCallInProgress", err)
	}
	phone.wait(t)
	trunk.wait(t)
	sink.waitEvent(t, "recorded") // reported before the end
	if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
		t.Fatalf("end %q", got)
	}
	sink.mu.Lock()
	rec := sink.recorded[0]
	sink.mu.Unlock()
	_, ch, err := media.ReadWAV(rec.Path)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"client", "rm echo"} {
		if _, level := loudest(ch[i]); level < 300 {
			t.Errorf("%s channel: level %.0f, want above 300", name, level)
		}
	}
}

// TestCallbackClientDoesNotAnswer: the RM's phone (sipgo peer) answers,
// the trunk (sipgo peer) refuses the client's leg with 486: Callback
// returns ErrClientNoAnswer with the 486, the RM's phone gets a BYE and
// the call ends as EndNoAnswer. Without a registered phone nothing is
// dialled (ErrNotRegistered), and without a trunk Callback refuses.
func TestCallbackClientDoesNotAnswer(t *testing.T) {
	trunk, phone := newPeer(t, "trunk"), newPeer(t, "rm-pb-01")
	phone.answer = func([]byte) (int, []byte) { return 200, phone.sdp("0", "a=rtpmap:0 PCMU/8000") }
	cfg := testConfig()
	cfg.Outbound = OutboundConfig{Addr: fmt.Sprintf("127.0.0.1:%d", trunk.port), CallerID: "+85230009999"}
	sink := newFakeSink()
	s := startServer(t, cfg, sink, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := CallbackRequest{ConversationID: "conv-cb", RM: "rm-pb-01", To: "+85291234567"}
	if err := s.Callback(ctx, req); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("callback without a phone: %v, want ErrNotRegistered", err)
	}
	if res := phone.register(t, s, "rm-pb-01", "secret-1", "", fmt.Sprintf("<sip:rm-pb-01@127.0.0.1:%d>", phone.port)); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	err := s.Callback(ctx, req)
	var rej *RejectError
	if !errors.Is(err, ErrClientNoAnswer) || !errors.As(err, &rej) || rej.Status != 486 {
		t.Fatalf("callback: %v, want ErrClientNoAnswer with 486", err)
	}
	phone.waitBye()
	if got := sink.waitEvent(t, "ended:"); got != "ended:no_answer" {
		t.Fatalf("end %q", got)
	}
	trunk.mu.Lock()
	n := len(trunk.invites)
	var uri, pai string
	if n > 0 {
		uri = trunk.invites[0].Recipient.User
		if h := trunk.invites[0].GetHeader("P-Asserted-Identity"); h != nil {
			pai = h.Value()
		}
	}
	trunk.mu.Unlock()
	if n != 1 || uri != "+85291234567" || pai == "" {
		t.Errorf("trunk got %d invites, to %q, identity %q", n, uri, pai)
	}
	cfg.Outbound = OutboundConfig{}
	s2 := startServer(t, cfg, newFakeSink(), nil)
	if err := s2.Callback(ctx, req); !errors.Is(err, ErrNoOutbound) {
		t.Errorf("callback without a trunk: %v, want ErrNoOutbound", err)
	}
}
