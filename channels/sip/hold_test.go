package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// talker sends the caller's frame every 20 ms until stopped.
func talker(t *testing.T, caller *peer, to media.Negotiation, audio []byte) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
			caller.sendRTP(to.Remote, 0, uint16(i), uint32(i*media.FrameSamples), i == 0, audio)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// TestSippHoldResumeTransfer: a PCMU caller (sipgo peer) is bridged to a
// sipp RM phone answering PCMA with -rtp_echo: the caller's audio comes
// back transcoded. The phone puts the call on hold (re-INVITE a=sendonly,
// answered a=recvonly, checked by the scenario): the caller hears music on
// hold. It resumes (a=sendrecv): the echo comes back. Then the call is
// transferred (the desk's transfer): the phone gets a BYE, the caller
// hears the transfer prompt and waits in queue, and Bridge connects a
// second RM phone (sipgo peer, PCMU) that hears the caller; the caller's
// BYE then completes the call.
func TestSippHoldResumeTransfer(t *testing.T) {
	sippPath(t)
	sink := newFakeSink()
	reg := NewMemoryRegistrar()
	s := startServer(t, testConfig(), sink, reg)
	dir := t.TempDir()
	uasPort := freePort(t)
	phone := startSipp(t, dir, "rm_phone_hold_uas.xml", nil, uasPort, "-rtp_echo")
	startSipp(t, dir, "rm_register.xml", s.Addr("udp"), freePort(t),
		"-s", "rm-pb-01", "-au", "rm-pb-01", "-ap", "secret-1", "-set", "uas_port", strconv.Itoa(uasPort)).wait(t)

	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, n, id := callQueued(t, ctx, s, sink, caller, "0 101", "a=rtpmap:101 telephone-event/8000")
	if err := s.Transfer(ctx, id); !errors.Is(err, ErrNotBridged) {
		t.Fatalf("transfer of a queued call: %v, want ErrNotBridged", err)
	}
	if err := s.Bridge(ctx, id, "rm-pb-01"); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	audio := make([]byte, media.FrameSamples)
	for i := range audio {
		audio[i] = byte(i*5 + 1)
	}
	echo := g711.Alaw2Ulaw(g711.Ulaw2Alaw(audio))
	stop := talker(t, caller, n, audio)
	defer stop()
	readUntil(t, caller, 0, echo) // bridged
	readUntil(t, caller, 0, prompts.HoldMusic()[:media.FrameSamples])
	t.Log("on hold: music")
	readUntil(t, caller, 0, echo)
	t.Log("resumed: echo")

	if err := s.Transfer(ctx, id); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	phone.wait(t) // took the BYE
	readUntil(t, caller, 0, prompts.Get(prompts.English, prompts.Transfer)[:media.FrameSamples])

	second := newPeer(t, "rm-pb-02")
	second.answer = func([]byte) (int, []byte) { return 200, second.sdp("0", "a=rtpmap:0 PCMU/8000") }
	if res := second.register(t, s, "rm-pb-02", "secret-2", "", fmt.Sprintf("<sip:rm-pb-02@127.0.0.1:%d>", second.port)); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if err := s.Bridge(ctx, id, "rm-pb-02"); err != nil {
		t.Fatalf("bridge to the second rm: %v", err)
	}
	readUntil(t, second, 0, audio) // the second RM hears the caller
	stop()
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := second.waitBye(); got == "" {
		t.Fatal("no BYE to the second RM")
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
		t.Fatalf("end %q", got)
	}
}
