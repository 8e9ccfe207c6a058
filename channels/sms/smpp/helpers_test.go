package smpp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
	"github.com/airbranch/airbranch/channels/sms/smstest"
)

const (
	testSystemID = "airbranch"
	testPassword = "s3cret"
	testAcct     = "+85230001234"
	testNumber   = "+85291234567"
)

// logBuffer collects JSON log lines, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the log records whose msg is msg.
func (l *logBuffer) records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// harness is a provider running against a test SMSC.
type harness struct {
	p      *Provider
	smsc   *smsctest.Server
	sink   *smstest.Sink
	sup    *sms.Memory
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

func newSMSC(t testing.TB) *smsctest.Server {
	t.Helper()
	s, err := smsctest.New(smsctest.Config{SystemID: testSystemID, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testConfig(addr string) Config {
	return Config{
		Addr: addr, SystemID: testSystemID, Password: testPassword, Account: testAcct,
		DefaultRegion: "HK",
		EnquireLink:   time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 2 * time.Second,
		BindTimeout: 2 * time.Second, RebindMin: 20 * time.Millisecond, RebindMax: 160 * time.Millisecond,
		SubmitTimeout: 5 * time.Second, SinkTimeout: 2 * time.Second, Throughput: 10000,
		ReassemblyTimeout: 10 * time.Second,
	}
}

// start runs a provider against smsc (a new one when nil) until the test
// ends; Run must return nil then.
func start(t testing.TB, smsc *smsctest.Server, mutate ...func(*Config)) *harness {
	t.Helper()
	if smsc == nil {
		smsc = newSMSC(t)
	}
	cfg := testConfig(smsc.Addr())
	for _, m := range mutate {
		m(&cfg)
	}
	h := &harness{smsc: smsc, sink: smstest.NewSink(), sup: sms.NewMemory(), logs: &logBuffer{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(cfg, h.sink, h.sup, logger)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
		if strings.Contains(h.logs.String(), "91234567") {
			t.Errorf("logs hold a phone number in clear")
		}
	})
	return h
}

// ctx returns a context that ends with the test or after 10 s.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// waitBound waits until the provider reports a bind up.
func (h *harness) waitBound(t testing.TB) {
	t.Helper()
	if err := h.smsc.WaitBound(ctx(t)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !h.p.Bound() {
		if time.Now().After(deadline) {
			t.Fatal("provider not bound")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendRetrying sends m, retrying while the error says unavailable, as the
// gateway does with a queued message.
func (h *harness) sendRetrying(t testing.TB, m sms.Outbound) []string {
	t.Helper()
	c := ctx(t)
	for {
		sent, err := h.p.Send(c, m)
		if err == nil {
			return sent.ProviderIDs
		}
		if !errors.Is(err, conversation.ErrUnavailable) || c.Err() != nil {
			t.Fatalf("send: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
