package smpp

import (
	"context"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// deliverQueue bounds the deliver_sm read but not yet handled; when it is
// full the reader waits, which slows the SMSC down (it waits for resps).
const deliverQueue = 256

// submitResult is the SMSC's answer to one submit_sm.
type submitResult struct {
	id     string
	status data.CommandStatusType
	err    error
}

// link is one bound gosmpp session: its submit_sm awaiting resps, and the
// worker that handles its deliver_sm one at a time, in arrival order.
type link struct {
	p      *Provider
	ctx    context.Context // Run's, for Sink calls
	sess   *gosmpp.Session
	smscID string
	up     time.Time

	mu       sync.Mutex
	pending  map[int32]chan submitResult
	isClosed bool
	reason   string

	closed    chan struct{} // closed when the session reports it closed
	closeOnce sync.Once
	deliverQ  chan *pdu.DeliverSM
	done      chan struct{} // closed by shutdown: the worker stops
	wg        sync.WaitGroup
}

func newLink(p *Provider, ctx context.Context) *link {
	return &link{
		p: p, ctx: ctx,
		pending:  map[int32]chan submitResult{},
		closed:   make(chan struct{}),
		deliverQ: make(chan *pdu.DeliverSM, deliverQueue),
		done:     make(chan struct{}),
	}
}

// settings returns the gosmpp session settings: every PDU to onPDU (so
// this package answers enquire_link, unbind and deliver_sm itself), no
// windowed tracking of gosmpp's own.
func (l *link) settings() gosmpp.Settings {
	return gosmpp.Settings{
		EnquireLink:  l.p.cfg.EnquireLink,
		ReadTimeout:  l.p.cfg.ReadTimeout,
		WriteTimeout: l.p.cfg.WriteTimeout,
		OnAllPDU:     l.onPDU,
		OnReceivingError: func(err error) {
			l.p.log.Warn("smpp read failed", "smsc", l.p.cfg.Addr, "err", err)
		},
		OnSubmitError: func(p pdu.PDU, err error) {
			l.p.log.Warn("smpp write failed", "smsc", l.p.cfg.Addr, "command_id", p.GetHeader().CommandID.String(), "err", err)
			if _, ok := p.(*pdu.SubmitSM); ok {
				l.resolve(p.GetSequenceNumber(), submitResult{err: ErrLinkLost})
			}
		},
		OnClosed: func(st gosmpp.State) {
			l.markClosed(st.String())
		},
	}
}

// start begins serving a bound session.
func (l *link) start(sess *gosmpp.Session) {
	l.sess = sess
	l.smscID = sess.Transceiver().SystemID()
	l.up = time.Now()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.done:
				return
			case d := <-l.deliverQ:
				l.answerDeliver(d)
			}
		}
	}()
}

// onPDU handles every PDU the SMSC sends, on gosmpp's reader goroutine.
// It returns the response to send now (nil for none) and whether to close
// the bind after it.
func (l *link) onPDU(p pdu.PDU) (pdu.PDU, bool) {
	switch req := p.(type) {
	case *pdu.EnquireLink:
		return req.GetResponse(), false
	case *pdu.Unbind:
		l.markClosed("unbind from the SMSC")
		return req.GetResponse(), true
	case *pdu.SubmitSMResp:
		l.resolve(req.SequenceNumber, submitResult{id: req.MessageID, status: req.CommandStatus})
	case *pdu.GenericNack:
		st := req.CommandStatus
		if st == data.ESME_ROK { // a nack always refuses
			st = data.ESME_RINVCMDID
		}
		l.resolve(req.SequenceNumber, submitResult{status: st})
	case *pdu.DeliverSM:
		// Answered by the worker once the Sink has the message.
		select {
		case l.deliverQ <- req:
		case <-l.done:
		}
	case *pdu.EnquireLinkResp, *pdu.UnbindResp, *pdu.DeliverSMResp:
	default:
		if p.CanResponse() {
			nack := pdu.NewGenericNack().(*pdu.GenericNack)
			nack.SetSequenceNumber(p.GetSequenceNumber())
			nack.CommandStatus = data.ESME_RINVCMDID
			return nack, false
		}
	}
	return nil, false
}

// answerDeliver handles one deliver_sm and sends its deliver_sm_resp.
func (l *link) answerDeliver(d *pdu.DeliverSM) {
	status := l.p.onDeliver(l.ctx, d)
	resp := d.GetResponse().(*pdu.DeliverSMResp)
	resp.CommandStatus = status
	if err := l.sess.Transceiver().Submit(resp); err != nil {
		l.p.log.Warn("smpp deliver_sm_resp not sent, the SMSC will deliver again", "err", err)
	}
}

// submit sends one submit_sm within the throughput limit and the window
// and returns where its answer will arrive.
func (l *link) submit(ctx context.Context, sm *pdu.SubmitSM) (chan submitResult, error) {
	if err := l.p.limiter.Wait(ctx); err != nil {
		return nil, wrapCtx(ErrThrottled, err)
	}
	select {
	case l.p.window <- struct{}{}:
	case <-ctx.Done():
		return nil, wrapCtx(ErrSubmitTimeout, ctx.Err())
	case <-l.closed:
		return nil, ErrLinkLost
	}
	seq := sm.GetSequenceNumber()
	ch := make(chan submitResult, 1)
	l.mu.Lock()
	if l.isClosed {
		l.mu.Unlock()
		<-l.p.window
		return nil, ErrLinkLost
	}
	l.pending[seq] = ch
	l.mu.Unlock()
	if err := l.sess.Transceiver().Submit(sm); err != nil {
		l.resolve(seq, submitResult{err: ErrLinkLost})
	}
	return ch, nil
}

// resolve hands a submit_sm its answer and frees its window slot; an
// unknown or already answered sequence number is ignored.
func (l *link) resolve(seq int32, res submitResult) {
	l.mu.Lock()
	ch, ok := l.pending[seq]
	delete(l.pending, seq)
	l.mu.Unlock()
	if ok {
		<-l.p.window
		ch <- res
	}
}

// markClosed records why the link ended and wakes wait.
func (l *link) markClosed(reason string) {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.isClosed = true
		l.reason = reason
		l.mu.Unlock()
		close(l.closed)
	})
}

// wait blocks until the link closes (returning why) or ctx ends.
func (l *link) wait(ctx context.Context) string {
	select {
	case <-ctx.Done():
		return "shutdown"
	case <-l.closed:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.reason
	}
}

// shutdown unbinds and closes the session, fails the submit_sm still
// awaiting an answer with ErrLinkLost and stops the worker; deliver_sm not
// yet answered will be delivered again by the SMSC.
func (l *link) shutdown() {
	_ = l.sess.Close()
	l.markClosed("closed")
	l.mu.Lock()
	seqs := make([]int32, 0, len(l.pending))
	for seq := range l.pending {
		seqs = append(seqs, seq)
	}
	l.mu.Unlock()
	for _, seq := range seqs {
		l.resolve(seq, submitResult{err: ErrLinkLost})
	}
	close(l.done)
	l.wg.Wait()
}
