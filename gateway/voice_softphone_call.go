package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/media"
)

// errSoftphone marks a softphone that did not take a call; it wraps
// sip.ErrNoAnswer, so the call goes back to the queue as when a phone
// does not answer.
var errSoftphone = fmt.Errorf("softphone: %w", sip.ErrNoAnswer)

// bridge offers the call of r to the softphone on line and, once the
// browser answered and connected, bridges the caller to it. It returns
// nil when bridged; an error wrapping sip.ErrNoAnswer when the browser
// refused, did not answer within the ring timeout or did not connect; or
// BridgeLocal's errors (the caller left meanwhile).
func (p *softphones) bridge(ctx context.Context, r voiceRequest, line desk.PhoneLine) error {
	return p.connect(ctx, r, line, func(ctx context.Context, remote netip.AddrPort) (*sip.LocalBridge, error) {
		return p.v.server.BridgeLocal(ctx, r.ConversationID, r.RMID, remote)
	})
}

// connect offers the call of r to the softphone on line and, once the
// browser answered and connected, joins it to the call with join (given
// the WebRTC leg's RTP address): BridgeLocal for a caller waiting here,
// sip.Server.CallbackLocal for a call the gateway places
// (voice_escalate.go). Results as bridge's; join's errors pass through.
func (p *softphones) connect(ctx context.Context, r voiceRequest, line desk.PhoneLine, join func(ctx context.Context, remote netip.AddrPort) (*sip.LocalBridge, error)) error {
	log := p.log.With("conversation_id", r.ConversationID, "rm_id", r.RMID)
	leg, err := p.engine.NewLeg()
	if err != nil {
		return fmt.Errorf("softphone: %w", err)
	}
	c := &softCall{id: "sp-" + rand.Text()[:16], conv: r.ConversationID, rm: r.RMID, line: line, leg: leg,
		answer: make(chan string, 1), hangup: make(chan struct{}), gone: make(chan struct{})}
	fail := func(err error) error {
		p.forget(c)
		_ = leg.Close()
		_ = line.Push(desk.TypePhoneHangup, phoneHangup{CallID: c.id, ConversationID: c.conv, EndedBy: string(sip.PartyGateway)})
		return err
	}
	gctx, cancel := context.WithTimeout(ctx, softphoneConnectTimeout)
	offer, err := leg.Offer(gctx)
	cancel()
	if err != nil {
		_ = leg.Close()
		return fmt.Errorf("softphone: %w", err)
	}
	p.mu.Lock()
	p.calls[c.id] = c
	p.mu.Unlock()
	p.v.events.publish(ctx, r.RMID, desk.CallData{ConversationID: r.ConversationID, State: desk.CallRinging, Device: desk.DeviceSoftphone})
	if err := line.Push(desk.TypePhoneOffer, phoneOffer{CallID: c.id, ConversationID: c.conv, SDP: offer}); err != nil {
		return fail(fmt.Errorf("%w: %v", errSoftphone, err))
	}
	ring := time.NewTimer(p.ringTimeout)
	defer ring.Stop()
	var answer string
	select {
	case answer = <-c.answer:
	case <-c.hangup:
		return fail(fmt.Errorf("%w: refused on the desk", errSoftphone))
	case <-c.gone:
		return fail(fmt.Errorf("softphone: %w", sip.ErrCallerGone))
	case <-line.Closed():
		return fail(fmt.Errorf("%w: the desk left", errSoftphone))
	case <-ring.C:
		return fail(fmt.Errorf("%w: no answer within %s", errSoftphone, p.ringTimeout))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if err := leg.SetAnswer(answer); err != nil {
		return fail(fmt.Errorf("%w: %v", errSoftphone, err))
	}
	connect := time.NewTimer(softphoneConnectTimeout)
	defer connect.Stop()
	select {
	case <-leg.Connected():
	case <-leg.Done():
		return fail(fmt.Errorf("%w: the browser's connection failed", errSoftphone))
	case <-c.hangup:
		return fail(fmt.Errorf("%w: hung up on the desk before connecting", errSoftphone))
	case <-c.gone:
		return fail(fmt.Errorf("softphone: %w", sip.ErrCallerGone))
	case <-connect.C:
		return fail(fmt.Errorf("%w: no ice connection within %s", errSoftphone, softphoneConnectTimeout))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	b, err := join(ctx, leg.RTPAddr())
	if err != nil {
		return fail(err)
	}
	leg.Connect(b.LocalAddr())
	c.bridge.Store(b)
	p.wg.Go(func() { p.run(c, b) })
	p.v.events.publish(ctx, r.RMID, desk.CallData{ConversationID: r.ConversationID, State: desk.CallBridged, Device: desk.DeviceSoftphone})
	log.Info("call bridged to the softphone", "call_id", c.id)
	return nil
}

// run relays the bridged call's media until it ends: the client's (or
// the gateway's) end of the call closes the leg; the desk's hang-up or
// the browser's connection failing hangs up the call (BYE to the client).
func (p *softphones) run(c *softCall, b *sip.LocalBridge) {
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = c.leg.Run(context.Background())
	}()
	select {
	case <-b.Done():
		// The call ended (CallEndedBy then tells the desk, through ended)
		// or the RM was taken off it (a transfer: nothing will).
		select {
		case <-c.gone:
		case <-time.After(softphoneEndReport):
			_ = c.line.Push(desk.TypePhoneHangup, phoneHangup{CallID: c.id, ConversationID: c.conv, EndedBy: string(sip.PartyGateway)})
		}
	case <-c.hangup:
		b.Hangup()
	case <-c.leg.Done():
		b.Hangup()
	}
	_ = c.leg.Close()
	<-runDone
	callerLeg, rmLeg := b.Stats()
	st := c.leg.Stats()
	p.log.Info("softphone call ended", "conversation_id", c.conv, "rm_id", c.rm, "call_id", c.id,
		"to_browser", st.ToBrowser, "from_browser", st.FromBrowser, "caller_rtp_in", callerLeg.PacketsIn, "caller_rtp_out", callerLeg.PacketsOut,
		"rm_leg_rtp_in", rmLeg.PacketsIn, "rm_leg_rtp_out", rmLeg.PacketsOut)
	p.forget(c)
}

// ended tells the softphone offered or bridged the call of conversation
// id, if any, that the call is over (phone.hangup with who ended it and
// why), and stops an offer still ringing. It reports whether the call was
// bridged to a softphone.
func (p *softphones) ended(id conversation.ConversationID, reason sip.EndReason, by sip.Party) bool {
	p.mu.Lock()
	var c *softCall
	for _, x := range p.calls {
		if x.conv == id {
			c = x
			break
		}
	}
	if c == nil {
		at, bridged := p.done[id]
		delete(p.done, id)
		p.mu.Unlock()
		return bridged && time.Since(at) <= softphoneDoneFor
	}
	p.mu.Unlock()
	c.goneOnce.Do(func() { close(c.gone) })
	if err := c.line.Push(desk.TypePhoneHangup, phoneHangup{CallID: c.id, ConversationID: id, EndedBy: string(by), Reason: string(reason)}); err != nil {
		p.log.Debug("phone.hangup not pushed", "conversation_id", id, "error", err)
	}
	return c.bridge.Load() != nil
}

// wait waits for the bridged calls' goroutines (the SIP server ends the
// calls when it stops).
func (p *softphones) wait() { p.wg.Wait() }

// connectRM carries out an accepted call's bridge request: to the RM's
// softphone when one is on at this instance and the call is here, else
// to their SIP phone (bridgeHere), telling the desk the call rings and is
// bridged.
func (v *voice) connectRM(ctx context.Context, r voiceRequest, local bool) error {
	here := v.server.Holds(r.ConversationID)
	if v.soft != nil && here {
		if line := v.soft.line(r.RMID); line != nil {
			return v.soft.bridge(ctx, r, line)
		}
	}
	return v.ringPhone(ctx, r, local, here)
}

// ringPhone rings the RM's SIP phone for r (bridgeHere), telling the desk
// when this instance holds the call.
func (v *voice) ringPhone(ctx context.Context, r voiceRequest, local, here bool) error {
	if here {
		v.events.publish(ctx, r.RMID, desk.CallData{ConversationID: r.ConversationID, State: desk.CallRinging, Device: desk.DevicePhone})
	}
	err := v.bridgeHere(ctx, r, local)
	if err == nil {
		v.events.publish(ctx, r.RMID, desk.CallData{ConversationID: r.ConversationID, State: desk.CallBridged, Device: desk.DevicePhone})
	}
	return err
}

// softphoneStats are the packet counters of a softphone call's media:
// the caller's RTP leg, the RM's side of the bridge, and the WebRTC leg.
type softphoneStats struct {
	Caller, RM media.LegStats
	WebRTC     media.WebRTCLegStats
}

// stats returns the counters of the bridged softphone call of
// conversation id, ok false when there is none on this instance.
func (p *softphones) stats(id conversation.ConversationID) (softphoneStats, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		if b := c.bridge.Load(); c.conv == id && b != nil {
			caller, rm := b.Stats()
			return softphoneStats{Caller: caller, RM: rm, WebRTC: c.leg.Stats()}, true
		}
	}
	return softphoneStats{}, false
}
