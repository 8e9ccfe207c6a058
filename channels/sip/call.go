package sip

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// callState is where a call is in its life.
type callState int

const (
	stateAnswering callState = iota // INVITE received, not yet confirmed by ACK
	stateQueued                     // answered, hearing prompts and music
	stateBridging                   // an RM's phone rings
	stateBridged                    // talking to an RM
	stateLeaving                    // saying goodbye before hanging up
)

// call is one inbound call: the caller's dialog and media leg, and once
// bridged the RM's.
type call struct {
	s      *Server
	log    *slog.Logger
	callID string
	dialog *sipgo.DialogServerSession
	leg    *media.Leg
	// answer is the SDP body the gateway sent in its 200 OK, resent for
	// session refreshes.
	answer    []byte
	lateOffer bool

	ctx    context.Context
	cancel context.CancelFunc
	digits chan byte
	// answered is closed when the INVITE handler is done: the call is
	// queued, or it failed before.
	answered chan struct{}

	mu        sync.Mutex
	id        conversation.ConversationID
	state     callState
	lang      prompts.Language
	reason    EndReason
	byeCaller bool
	byeRM     bool
	ackErr    error
	rm        *rmLeg
	// playMu serialises starting and stopping the playback.
	playMu   sync.Mutex
	playStop context.CancelFunc
	playDone chan struct{}
	// recordDecided, record and recorder: whether the call is recorded
	// (asked once, see decideRecording) and its WAV file once bridged.
	recordDecided bool
	record        bool
	recorder      *media.WAVRecorder
	// held: the RM put the bridged call on hold (hold.go).
	held bool
	// out is the client's dialog of a callback (callback.go), which the
	// gateway called; dialog is then nil.
	out *sipgo.DialogClientSession
	// referFrom is the RM leg whose REFER is being carried out (refer.go).
	referFrom *rmLeg
}

// rmLeg is the RM's side of a bridged call.
type rmLeg struct {
	rm     conversation.RMID
	callID string
	dialog *sipgo.DialogClientSession
	leg    *media.Leg
	// offer is the SDP the gateway sent the RM, resent for refreshes.
	offer []byte
}

// conversationID returns the call's conversation id.
func (c *call) conversationID() conversation.ConversationID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

func (c *call) getState() callState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// end records why the call ends and which legs still need a BYE, once, and
// ends the call's context; run then cleans up.
func (c *call) end(reason EndReason, byeCaller, byeRM bool) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason, c.byeCaller, c.byeRM = reason, byeCaller, byeRM
	}
	c.mu.Unlock()
	c.cancel()
}

// hangup ends the call from the gateway's side: BYE to every leg.
func (c *call) hangup(reason EndReason) { c.end(reason, true, true) }

// digit queues a DTMF digit for run; it never blocks (digits beyond the
// buffer are dropped).
func (c *call) digit(d byte) {
	select {
	case c.digits <- d:
	default:
	}
}

// startPlayback stops what plays to the caller and starts f in its own
// goroutine, owned by the call and stopped by stopPlayback.
func (c *call) startPlayback(f func(ctx context.Context)) { c.startPlaybackWhen(f, false) }

// startPlaybackWhen is startPlayback; onHold allows it while the call is
// bridged (music to a caller the RM put on hold).
func (c *call) startPlaybackWhen(f func(ctx context.Context), onHold bool) {
	c.playMu.Lock()
	defer c.playMu.Unlock()
	c.stopPlaybackLocked()
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	c.mu.Lock()
	if c.state == stateBridged && !(onHold && c.held) {
		c.mu.Unlock()
		cancel()
		return
	}
	c.playStop, c.playDone = cancel, done
	c.mu.Unlock()
	go func() {
		defer close(done)
		f(ctx)
	}()
}

// stopPlayback stops the playback goroutine and waits for it.
func (c *call) stopPlayback() {
	c.playMu.Lock()
	defer c.playMu.Unlock()
	c.stopPlaybackLocked()
}

// stopPlaybackLocked is stopPlayback with playMu held.
func (c *call) stopPlaybackLocked() {
	c.mu.Lock()
	stop, done := c.playStop, c.playDone
	c.playStop, c.playDone = nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// queueAudio plays the welcome (or the language confirmation after a
// change), then music on hold with an announcement of the queue position or
// expected wait every AnnounceEvery, until ctx ends.
func (c *call) queueAudio(first prompts.Name) func(ctx context.Context) {
	return c.queueAudioAfter(first, nil)
}

// queueAudioAfter is queueAudio that closes played, when not nil, once
// the first prompt has played or the playback stopped.
func (c *call) queueAudioAfter(first prompts.Name, played chan struct{}) func(ctx context.Context) {
	return func(ctx context.Context) {
		c.mu.Lock()
		lang := c.lang
		c.mu.Unlock()
		err := media.Play(ctx, c.leg, prompts.Get(lang, first))
		if played != nil {
			close(played)
		}
		if err != nil {
			return
		}
		for {
			if media.PlayFor(ctx, c.leg, prompts.HoldMusic(), c.s.cfg.AnnounceEvery) != nil {
				return
			}
			sctx, cancel := c.s.sinkCtx()
			st, err := c.s.sink.QueueStatus(sctx, c.conversationID())
			cancel()
			if err != nil {
				c.log.Debug("queue status unavailable", "error", err)
				continue
			}
			if media.Play(ctx, c.leg, prompts.Announcement(lang, st.Position, st.ExpectedWait)) != nil {
				return
			}
		}
	}
}

// run owns the answered call until it ends: the caller's RTP, DTMF and
// the RTP timeout (the queue audio was started by the INVITE handler); then it hangs up what is left, releases
// the media and reports the end to the sink.
func (c *call) run() {
	defer c.s.wg.Done()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.leg.Run(c.ctx); err != nil {
			c.log.Warn("caller rtp failed", "error", err)
			c.hangup(EndFailed)
		}
	})
	answeredAt := c.s.now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-c.ctx.Done():
			break loop
		case d := <-c.digits:
			c.onDigit(d)
		case now := <-tick.C:
			if c.s.cfg.RTPTimeout > 0 {
				last := c.leg.LastReceived()
				if last.IsZero() {
					last = answeredAt
				}
				if now.Sub(last) > c.s.cfg.RTPTimeout {
					c.log.Info("no rtp from caller, hanging up", "timeout_s", c.s.cfg.RTPTimeout.Seconds())
					c.hangup(EndFailed)
				}
			}
		}
	}
	c.stopPlayback()
	c.finish()
	wg.Wait()
}

// finish sends the BYEs end asked for, closes the media legs, forgets the
// call and reports its end.
func (c *call) finish() {
	c.mu.Lock()
	reason, byeCaller, byeRM, rm := c.reason, c.byeCaller, c.byeRM, c.rm
	if reason == "" {
		reason, byeCaller, byeRM = EndFailed, true, true
	}
	id := c.id
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	if byeCaller && (c.dialog != nil || c.out != nil) {
		wg.Go(func() {
			if err := c.byeClient(ctx); err != nil {
				c.log.Debug("bye to caller failed", "error", err)
			}
		})
	}
	if rm != nil {
		if byeRM && rm.dialog != nil { // a local bridge has no dialog
			wg.Go(func() {
				if err := rm.dialog.Bye(ctx); err != nil {
					c.log.Debug("bye to rm failed", "error", err)
				}
			})
		}
	}
	wg.Wait()
	_ = c.leg.Close()
	if rm != nil {
		_ = rm.leg.Close()
	}
	c.finishRecording(ctx)
	c.s.forget(c)
	st := c.leg.Stats()
	c.log.Info("call ended", "reason", string(reason), "rtp_in", st.PacketsIn, "rtp_out", st.PacketsOut)
	if id != "" {
		if err := c.s.reportEnd(ctx, id, reason, endedBy(byeCaller, byeRM, rm != nil)); err != nil {
			c.log.Warn("call end not recorded", "error", err)
		}
	}
}

// onDigit reports a DTMF digit and applies the queue menu: 1 switches the
// prompt language, 2 asks for a callback and ends the call politely.
func (c *call) onDigit(d byte) {
	id := c.conversationID()
	ctx, cancel := c.s.sinkCtx()
	defer cancel()
	if err := c.s.sink.CallDTMF(ctx, id, d); err != nil {
		c.log.Debug("dtmf not recorded", "error", err)
	}
	if c.getState() != stateQueued {
		return
	}
	switch d {
	case '1':
		c.mu.Lock()
		c.lang = nextLanguage(c.lang)
		lang := c.lang
		c.mu.Unlock()
		if err := c.s.sink.CallMenu(ctx, id, MenuChoice{Kind: MenuLanguage, Language: string(lang)}); err != nil {
			c.log.Warn("language choice not recorded", "error", err)
		}
		c.log.Info("caller chose language", "language", string(lang))
		c.startPlayback(c.queueAudio(prompts.LanguageChosen))
	case '2':
		if err := c.s.sink.CallMenu(ctx, id, MenuChoice{Kind: MenuCallback}); err != nil {
			c.log.Warn("callback request failed, caller stays in queue", "error", err)
			return
		}
		c.mu.Lock()
		c.state = stateLeaving
		lang := c.lang
		c.mu.Unlock()
		c.log.Info("caller asked for a callback")
		c.startPlayback(func(ctx context.Context) {
			if media.Play(ctx, c.leg, prompts.Get(lang, prompts.Callback)) == nil {
				c.end(EndCallback, true, true)
			}
		})
	}
}

func nextLanguage(l prompts.Language) prompts.Language {
	for i, x := range prompts.Languages {
		if x == l {
			return prompts.Languages[(i+1)%len(prompts.Languages)]
		}
	}
	return prompts.Languages[0]
}

// forget removes c from the server's indexes.
func (s *Server) forget(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[c.callID] == c {
		delete(s.calls, c.callID)
	}
	c.mu.Lock()
	rm, id := c.rm, c.id
	c.mu.Unlock()
	if rm != nil && s.calls[rm.callID] == c {
		delete(s.calls, rm.callID)
	}
	if s.byConv[id] == c {
		delete(s.byConv, id)
	}
}
