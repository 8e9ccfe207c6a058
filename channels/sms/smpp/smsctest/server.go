// Package smsctest is a small SMSC for tests: an SMPP 3.4 server on a real
// TCP listener (127.0.0.1:0) built on gosmpp's pdu package. It checks bind
// credentials, answers submit_sm with message ids and records what it got,
// answers enquire_link and unbind, pushes deliver_sm (plain messages,
// concatenated UCS-2 parts, delivery receipts) and reports the
// deliver_sm_resp status, and can refuse binds or drop its connections.
package smsctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Config configures a Server.
type Config struct {
	// SystemID and Password are the credentials a bind must present; a
	// wrong password is refused with ESME_RINVPASWD, a wrong system id
	// with ESME_RINVSYSID.
	SystemID, Password string
}

// BindAttempt is one bind the server answered.
type BindAttempt struct {
	SystemID string
	Type     data.CommandIDType // bind_transceiver, bind_transmitter, bind_receiver
	Status   data.CommandStatusType
	At       time.Time
}

// Submit is one submit_sm the server received.
type Submit struct {
	// ID is the message id answered ("" when refused).
	ID                     string
	Status                 data.CommandStatusType
	SourceAddr, DestAddr   string
	SourceTON, SourceNPI   byte
	DestTON, DestNPI       byte
	EsmClass, DataCoding   byte
	RegisteredDelivery     byte
	UDH                    []byte // raw user data header with its length octet, nil when none
	Payload                []byte // short_message after the UDH
	ConcatRef              byte   // from an 8-bit concatenation IE, else 0
	ConcatTotal, ConcatSeq byte
}

// Server is the test SMSC. Close it when done; Close waits for its
// goroutines.
type Server struct {
	cfg Config
	ln  net.Listener
	wg  sync.WaitGroup

	mu           sync.Mutex
	conns        map[*conn]struct{}
	bound        *conn
	refuse       data.CommandStatusType
	submitStatus data.CommandStatusType
	binds        []BindAttempt
	submits      []Submit
	enquireLinks int
	nextID       int
	hold         bool
	submitDelay  time.Duration
	held         []heldResp
	maxHeld      int
	changed      chan struct{}
}

// heldResp is a submit_sm_resp kept back by HoldSubmits.
type heldResp struct {
	c    *conn
	resp pdu.PDU
}

// State is a snapshot of what the server saw, for Wait.
type State struct {
	Binds        []BindAttempt
	Submits      []Submit
	Bound        bool
	EnquireLinks int
	Held         int // submit_sm_resp held back now
}

// conn is one ESME connection.
type conn struct {
	nc      net.Conn
	wmu     sync.Mutex
	bound   bool
	pending map[int32]chan data.CommandStatusType // deliver_sm seq → resp status
}

// New starts a server listening on 127.0.0.1 on a free port.
func New(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smsctest: listen: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, conns: map[*conn]struct{}{}, changed: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.accept()
	}()
	return s, nil
}

// Addr returns the host:port to dial.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every connection and waits for the
// server's goroutines.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
	return err
}

// RefuseBinds makes every following bind fail with status (e.g.
// data.ESME_RBINDFAIL); data.ESME_ROK accepts binds again.
func (s *Server) RefuseBinds(status data.CommandStatusType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = status
}

// SetSubmitStatus makes every following submit_sm be answered with status
// (e.g. data.ESME_RTHROTTLED); data.ESME_ROK accepts them again.
func (s *Server) SetSubmitStatus(status data.CommandStatusType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submitStatus = status
}

// DropConnections closes every open connection at once (no unbind), as a
// failing link does, and returns how many it closed.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		_ = c.nc.Close()
		n++
	}
	return n
}

// Binds returns every bind answered so far.
func (s *Server) Binds() []BindAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BindAttempt(nil), s.binds...)
}

// Submits returns every submit_sm received so far.
func (s *Server) Submits() []Submit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submit(nil), s.submits...)
}

// EnquireLinks returns how many enquire_link the server answered.
func (s *Server) EnquireLinks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enquireLinks
}

// Bound reports whether an ESME is bound now.
func (s *Server) Bound() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound != nil
}

// SetSubmitDelay makes the server answer each following submit_sm d
// after it arrived (0: at once), as an SMSC that far away would, without
// holding back the next ones; Close waits for the answers still due.
func (s *Server) SetSubmitDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submitDelay = d
}

// HoldSubmits makes the server keep back its submit_sm_resp (hold true)
// until Release; the submit_sm are still recorded.
func (s *Server) HoldSubmits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = true
}

// Release sends every submit_sm_resp held back and stops holding.
func (s *Server) Release() {
	s.mu.Lock()
	held := s.held
	s.held, s.hold = nil, false
	s.signal()
	s.mu.Unlock()
	for _, h := range held {
		_ = h.c.write(h.resp)
	}
}

// MaxHeld returns the most submit_sm_resp held back at once.
func (s *Server) MaxHeld() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxHeld
}

// Wait blocks until cond, called with the server locked on a snapshot of
// its state, is true or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func(State) bool) error {
	for {
		s.mu.Lock()
		ok := cond(State{Binds: s.binds, Submits: s.submits, Bound: s.bound != nil, EnquireLinks: s.enquireLinks, Held: len(s.held)})
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("smsctest: wait: %w", ctx.Err())
		case <-ch:
		}
	}
}

// WaitBound waits until an ESME is bound.
func (s *Server) WaitBound(ctx context.Context) error {
	return s.Wait(ctx, func(st State) bool { return st.Bound })
}

// signal wakes Wait; the caller holds s.mu.
func (s *Server) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Deliver sends p (a deliver_sm) to the bound ESME and waits for its
// deliver_sm_resp, returning the resp's command_status.
func (s *Server) Deliver(ctx context.Context, p *pdu.DeliverSM) (data.CommandStatusType, error) {
	s.mu.Lock()
	c := s.bound
	s.mu.Unlock()
	if c == nil {
		return 0, errors.New("smsctest: deliver: no ESME bound")
	}
	ch := make(chan data.CommandStatusType, 1)
	c.wmu.Lock()
	c.pending[p.GetSequenceNumber()] = ch
	c.wmu.Unlock()
	if err := c.write(p); err != nil {
		return 0, fmt.Errorf("smsctest: deliver: %w", err)
	}
	select {
	case st := <-ch:
		return st, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("smsctest: deliver: no deliver_sm_resp: %w", ctx.Err())
	}
}
