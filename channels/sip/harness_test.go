package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// fakeSink is a CallSink recording what the adapter reports; function
// fields change its answers.
type fakeSink struct {
	incomingErr func(in conversation.Incoming) error
	status      QueueStatus
	// record, when set, answers RecordCall.
	record func(id conversation.ConversationID) bool
	// transfer, when set, answers CallTransfer.
	transfer func(id conversation.ConversationID, rm conversation.RMID, target string) error

	mu       sync.Mutex
	n        int
	incoming []conversation.Incoming
	ended    map[conversation.ConversationID]EndReason
	digits   []byte
	menus    []MenuChoice
	recorded []media.Recording
	events   chan string
}

var (
	_ CallSink          = (*fakeSink)(nil)
	_ CallRecorder      = (*fakeSink)(nil)
	_ TransferRequester = (*fakeSink)(nil)
)

func (f *fakeSink) CallTransfer(_ context.Context, id conversation.ConversationID, rm conversation.RMID, target string) error {
	f.event("transfer:" + string(rm) + ">" + target)
	if f.transfer == nil {
		return errors.New("transfers not supported")
	}
	return f.transfer(id, rm, target)
}

func (f *fakeSink) RecordCall(_ context.Context, id conversation.ConversationID) (bool, error) {
	f.event("record?")
	return f.record != nil && f.record(id), nil
}

func (f *fakeSink) CallRecorded(_ context.Context, _ conversation.ConversationID, rec media.Recording) error {
	f.mu.Lock()
	f.recorded = append(f.recorded, rec)
	f.mu.Unlock()
	f.event("recorded")
	return nil
}

func newFakeSink() *fakeSink {
	return &fakeSink{ended: map[conversation.ConversationID]EndReason{}, events: make(chan string, 256)}
}

func (f *fakeSink) event(s string) {
	select {
	case f.events <- s:
	default:
	}
}

func (f *fakeSink) IncomingCall(_ context.Context, in conversation.Incoming) (conversation.Receipt, error) {
	if err := in.Validate(); err != nil {
		return conversation.Receipt{}, err
	}
	if f.incomingErr != nil {
		if err := f.incomingErr(in); err != nil {
			f.event("incoming:refused")
			return conversation.Receipt{}, err
		}
	}
	f.mu.Lock()
	f.n++
	id := conversation.ConversationID(fmt.Sprintf("conv-%d", f.n))
	f.incoming = append(f.incoming, in)
	f.mu.Unlock()
	f.event("incoming:" + string(id))
	return conversation.Receipt{ConversationID: id, CustomerID: "cus-1"}, nil
}

func (f *fakeSink) CallEnded(_ context.Context, id conversation.ConversationID, reason EndReason) error {
	f.mu.Lock()
	f.ended[id] = reason
	f.mu.Unlock()
	f.event("ended:" + string(reason))
	return nil
}

func (f *fakeSink) CallDTMF(_ context.Context, _ conversation.ConversationID, d byte) error {
	f.mu.Lock()
	f.digits = append(f.digits, d)
	f.mu.Unlock()
	f.event("dtmf:" + string(d))
	return nil
}

func (f *fakeSink) CallMenu(_ context.Context, _ conversation.ConversationID, c MenuChoice) error {
	f.mu.Lock()
	f.menus = append(f.menus, c)
	f.mu.Unlock()
	f.event("menu:" + string(c.Kind) + ":" + c.Language)
	return nil
}

func (f *fakeSink) QueueStatus(context.Context, conversation.ConversationID) (QueueStatus, error) {
	f.event("status")
	return f.status, nil
}

func (f *fakeSink) lastIncoming() conversation.Incoming {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.incoming) == 0 {
		return conversation.Incoming{}
	}
	return f.incoming[len(f.incoming)-1]
}

// waitEvent waits up to 15 s for an event with the given prefix, failing
// the test otherwise; events before it are returned too.
func (f *fakeSink) waitEvent(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	var seen []string
	for {
		select {
		case e := <-f.events:
			if strings.HasPrefix(e, prefix) {
				return e
			}
			seen = append(seen, e)
		case <-deadline:
			t.Fatalf("no %q event; saw %v", prefix, seen)
			return ""
		}
	}
}

// testConfig is a loopback config: UDP and TCP on ephemeral ports, a trunk
// for 127.0.0.0/8, RTP on 127.0.0.1, short timers.
func testConfig() Config {
	return Config{
		UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		MediaIP: "127.0.0.1", PublicMediaIP: "127.0.0.1",
		DefaultRegion: "HK",
		Trunks:        []TrunkConfig{{Name: "loopback", Sources: []string{"127.0.0.0/8"}, TrustIdentity: true}},
		RMPhones: []RMPhoneConfig{
			{RM: "rm-pb-01", Username: "rm-pb-01", Password: "secret-1"},
			{RM: "rm-pb-02", Username: "rm-pb-02", Password: "secret-2"},
		},
		AnnounceEvery: 2 * time.Second,
		RMRingTimeout: 5 * time.Second,
		RTPTimeout:    -1,
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("AIRBRANCH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer runs a Server until the test ends.
func startServer(t *testing.T, cfg Config, sink CallSink, reg Registrar) *Server {
	t.Helper()
	if reg == nil {
		reg = NewMemoryRegistrar()
	}
	s, err := New(cfg, sink, reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	// Wait until Run has taken its context (calls are refused before).
	for i := 0; ; i++ {
		s.mu.Lock()
		ready := s.runCtx != nil
		s.mu.Unlock()
		if ready {
			break
		}
		if i > 500 {
			t.Fatal("server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// rawExchange sends msg over UDP to addr and returns the first response's
// status line and the whole response, or "" when none comes within wait.
func rawExchange(t *testing.T, addr net.Addr, msg []byte, wait time.Duration) (string, string) {
	t.Helper()
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	for {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		n, err := c.Read(buf)
		if err != nil {
			return "", ""
		}
		resp := string(buf[:n])
		line, _, _ := strings.Cut(resp, "\r\n")
		if strings.HasPrefix(line, "SIP/2.0 100 ") {
			continue
		}
		return line, resp
	}
}
