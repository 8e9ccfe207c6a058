// Package smpp is the SMS channel's provider for an SMSC spoken to over
// SMPP 3.4 (github.com/linxGnu/gosmpp v0.3.1): one transceiver bind with
// enquire_link keep-alive and automatic rebind with exponential backoff;
// windowed, rate-limited submit_sm with long messages split into UDH
// concatenated parts (the encoding chosen by package sms); deliver_sm for
// incoming messages (parts reassembled, de-duplicated) and for delivery
// receipts, acknowledged only once the Sink has stored them.
//
// gosmpp's Session is used for the link (bind, reader and writer
// goroutines, enquire_link) with its own rebinding turned off: its fixed
// interval, unowned goroutine and "fail if the first bind fails" do not fit
// a Run(ctx) that must retry with backoff. Its windowed request tracking
// drops a PDU when the window is full, so the window here is a semaphore
// that makes Send wait instead, and submit_sm_resp are matched to their
// submit_sm by sequence number in this package.
package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp"
	"golang.org/x/time/rate"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

// Provider is the SMPP provider of one channel account. Create it with
// New, run it with Run, send with Send (from any goroutine).
type Provider struct {
	cfg     Config
	sink    sms.Sink
	sup     sms.Suppressions
	log     *slog.Logger
	limiter *rate.Limiter
	window  chan struct{} // one token per submit_sm awaiting its resp
	reasm   *reassembler
	dedup   *dedup
	ref     atomic.Uint32 // concatenation reference of outbound messages
	running atomic.Bool

	mu     sync.Mutex
	link   *link         // the bound link, nil while unbound
	linkUp chan struct{} // closed when a link is bound
}

var _ sms.Sender = (*Provider)(nil)

// New returns the provider for cfg (defaults applied, then validated: the
// error joins every problem, each wrapping ErrConfig). sink receives what
// arrives; sup is the suppression list shared with the other SMS
// providers; logger is enriched with channel=sms, provider=smpp, account.
// Nothing connects before Run.
func New(cfg Config, sink sms.Sink, sup sms.Suppressions, logger *slog.Logger) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil || sup == nil || logger == nil {
		return nil, fmt.Errorf("smpp: new: %w: sink, suppressions and logger are required", ErrConfig)
	}
	p := &Provider{
		cfg:     cfg,
		sink:    sink,
		sup:     sup,
		log:     logger.With("channel", string(conversation.ChannelSMS), "provider", "smpp", "account", cfg.Account),
		limiter: rate.NewLimiter(rate.Limit(cfg.Throughput), cfg.Window),
		window:  make(chan struct{}, cfg.Window),
		reasm:   newReassembler(cfg.ReassemblyMaxMessages, cfg.MaxInboundParts),
		dedup:   newDedup(cfg.DedupWindow, cfg.DedupMaxEntries),
		linkUp:  make(chan struct{}),
	}
	p.ref.Store(rand.Uint32())
	return p, nil
}

// Account returns the channel account this provider serves.
func (p *Provider) Account() string { return p.cfg.Account }

// Bound reports whether a transceiver bind is up now (for /readyz).
func (p *Provider) Bound() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.link != nil
}

// Up returns a channel that is closed while a bind is up: at once when
// one is up now, else when the next bind succeeds. Once that bind is lost
// a later call returns a new channel, so callers waiting for the next bind
// call Up again.
func (p *Provider) Up() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.linkUp
}

// Run binds to the SMSC and keeps a bind up until ctx ends: a refused
// bind (logged at error with its command_status) or a lost link (logged at
// warn) is retried after a backoff that doubles from RebindMin to
// RebindMax. It owns every goroutine of the provider (gosmpp's reader and
// writer, the deliver_sm worker, the reassembly sweeper) and returns once
// they have ended, after an unbind: nil when ctx ends, ErrRunning when Run
// is already running.
func (p *Provider) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.sweep(ctx)
	}()

	backoff := p.cfg.RebindMin
	failures := 0
	for ctx.Err() == nil {
		l, err := p.bind(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			delay := jitter(backoff)
			attrs := []any{"smsc", p.cfg.Addr, "system_id", p.cfg.SystemID, "attempt", failures, "backoff", backoff, "retry_in", delay, "err", err}
			var be *BindError
			if errors.As(err, &be) {
				attrs = append(attrs, "command_status", statusCode(be.Status))
				p.log.Error("smpp bind refused by the SMSC", attrs...)
			} else {
				p.log.Error("smpp bind failed", attrs...)
			}
			if !sleep(ctx, delay) {
				break
			}
			backoff = min(2*backoff, p.cfg.RebindMax)
			continue
		}
		failures = 0
		p.setLink(l)
		p.log.Info("smpp bound", "smsc", p.cfg.Addr, "system_id", p.cfg.SystemID, "smsc_system_id", l.smscID)
		reason := l.wait(ctx)
		p.clearLink(l)
		l.shutdown()
		if ctx.Err() != nil {
			p.log.Info("smpp unbound", "smsc", p.cfg.Addr)
			break
		}
		uptime := time.Since(l.up)
		if uptime >= p.cfg.RebindMax {
			backoff = p.cfg.RebindMin
		}
		delay := jitter(backoff)
		p.log.Warn("smpp link lost", "smsc", p.cfg.Addr, "reason", reason, "uptime", uptime.Round(time.Millisecond), "backoff", backoff, "retry_in", delay)
		if !sleep(ctx, delay) {
			break
		}
		backoff = min(2*backoff, p.cfg.RebindMax)
	}
	return nil
}

// jitter returns a wait drawn uniformly between half of d and d.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// bind dials the SMSC and binds as transceiver (SMPP 3.4 §4.1.5), within
// BindTimeout and ctx.
func (p *Provider) bind(ctx context.Context) (*link, error) {
	l := newLink(p, ctx)
	var dialed atomic.Pointer[net.Conn]
	dialer := func(addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: p.cfg.BindTimeout}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		// Bounds the bind exchange; gosmpp sets its own deadlines per read
		// and write once bound.
		_ = c.SetDeadline(time.Now().Add(p.cfg.BindTimeout))
		dialed.Store(&c)
		return c, nil
	}
	stop := context.AfterFunc(ctx, func() {
		if c := dialed.Load(); c != nil {
			_ = (*c).Close()
		}
	})
	auth := gosmpp.Auth{SMSC: p.cfg.Addr, SystemID: p.cfg.SystemID, Password: p.cfg.Password, SystemType: p.cfg.SystemType}
	sess, err := gosmpp.NewSession(gosmpp.TRXConnector(dialer, auth), l.settings(), 0)
	stop()
	if err != nil {
		var be gosmpp.BindError
		if errors.As(err, &be) {
			return nil, &BindError{Status: be.CommandStatus}
		}
		return nil, fmt.Errorf("smpp: bind to %s: %w", p.cfg.Addr, err)
	}
	l.start(sess)
	return l, nil
}

func (p *Provider) setLink(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.link = l
	close(p.linkUp)
}

func (p *Provider) clearLink(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.link == l {
		p.link = nil
		p.linkUp = make(chan struct{})
	}
}

// boundLink returns the bound link, waiting up to SubmitTimeout (and
// ctx) for one.
func (p *Provider) boundLink(ctx context.Context) (*link, error) {
	timer := time.NewTimer(p.cfg.SubmitTimeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		l, up := p.link, p.linkUp
		p.mu.Unlock()
		if l != nil {
			return l, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, fmt.Errorf("smpp: waiting for a bind: %w: %w", ErrNotBound, ctx.Err())
		case <-timer.C:
			return nil, ErrNotBound
		}
	}
}
