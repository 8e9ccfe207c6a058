package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/media"
)

// softphoneConnectTimeout bounds the wait for the browser's ICE and DTLS
// once its answer came, and for the gathering of the gateway's offer.
const softphoneConnectTimeout = 10 * time.Second

// softphoneEndReport bounds the wait, once the softphone's side of a call
// is over, for the call's end to be reported (phone.hangup with who ended
// it); past it the desk gets a phone.hangup without them.
const softphoneEndReport = 2 * time.Second

// softphones bridges accepted calls to RMs' browser softphones: the desk
// session that sent phone.register {"enabled": true} (desk.PhoneLine) gets
// each call its RM accepts, as a WebRTC offer (phone.offer) over the desk
// WebSocket; the browser's answer (phone.answer) connects a
// media.WebRTCLeg, bridged to the caller's RTP leg by
// sip.Server.BridgeLocal, PCMU end to end. A hang-up from the desk
// (phone.hangup), or the browser's peer connection failing, sends BYE to
// the client; the client's BYE ends the leg and the desk hears
// phone.hangup.
//
// Lines and calls are this instance's: a softphone takes the calls this
// instance's SIP server holds; a call held by another instance rings the
// RM's SIP phone as before.
type softphones struct {
	v           *voice
	engine      *media.WebRTCEngine
	log         *slog.Logger
	ringTimeout time.Duration

	mu    sync.Mutex
	lines map[conversation.RMID]desk.PhoneLine
	calls map[string]*softCall
	// done holds, for a short while, the conversations whose softphone
	// bridge ended before the SIP side reported the call's end (the RM
	// hung up on the desk), so that ended still names the softphone.
	done map[conversation.ConversationID]time.Time
	// wg counts the bridged calls' goroutines; wait waits for them.
	wg sync.WaitGroup
}

var _ desk.Phones = (*softphones)(nil)

// softCall is one call offered to or bridged to a softphone.
type softCall struct {
	id     string
	conv   conversation.ConversationID
	rm     conversation.RMID
	line   desk.PhoneLine
	leg    *media.WebRTCLeg
	answer chan string
	hangup chan struct{}
	once   sync.Once
	// gone is closed when the call ended at the gateway (the client hung
	// up while the softphone rang, or after).
	gone     chan struct{}
	goneOnce sync.Once
	// bridge is set once the call is bridged.
	bridge atomic.Pointer[sip.LocalBridge]
}

// hangUp records the desk's phone.hangup once.
func (c *softCall) hangUp() { c.once.Do(func() { close(c.hangup) }) }

// newSoftphones builds the softphones of the voice channel of cfg: ICE
// gathers in the RTP port range, announces sip.public_media_ip as a
// server-reflexive candidate when it differs from sip.media_ip, and
// includes loopback candidates when the media address is loopback.
func newSoftphones(cfg *configs.Config, v *voice, log *slog.Logger) (*softphones, error) {
	wc := media.WebRTCConfig{PortMin: uint16(min(max(cfg.SIP.RTPPortMin, 0), 65535)), PortMax: uint16(min(max(cfg.SIP.RTPPortMax, 0), 65535))}
	mediaIP, _ := netip.ParseAddr(cfg.SIP.MediaIP)
	wc.Loopback = mediaIP.IsLoopback()
	if pub, err := netip.ParseAddr(cfg.SIP.PublicMediaIP); err == nil && pub != mediaIP && !pub.IsLoopback() && !pub.IsUnspecified() {
		wc.PublicIP = pub.String()
	}
	eng, err := media.NewWebRTCEngine(wc, log)
	if err != nil {
		return nil, fmt.Errorf("gateway: softphone: %w", err)
	}
	return &softphones{v: v, engine: eng, log: log.With("component", "softphone"), ringTimeout: cfg.SIP.RMRingTimeout,
		lines: map[conversation.RMID]desk.PhoneLine{}, calls: map[string]*softCall{}}, nil
}

// phoneRequest is the data of the desk's phone.* requests.
type phoneRequest struct {
	Enabled *bool  `json:"enabled"`
	CallID  string `json:"call_id"`
	SDP     string `json:"sdp"`
}

// phoneOffer is the data of phone.offer.
type phoneOffer struct {
	CallID         string                      `json:"call_id"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	SDP            string                      `json:"sdp"`
}

// phoneHangup is the data of the server's phone.hangup.
type phoneHangup struct {
	CallID         string                      `json:"call_id"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	EndedBy        string                      `json:"ended_by,omitempty"`
	Reason         string                      `json:"reason,omitempty"`
}

// PhoneFrame implements desk.Phones.
func (p *softphones) PhoneFrame(_ context.Context, line desk.PhoneLine, typ string, data json.RawMessage) (any, error) {
	var req phoneRequest
	if len(data) > 0 {
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, fmt.Errorf("%s: %w: %v", typ, conversation.ErrInvalid, err)
		}
	}
	switch typ {
	case desk.TypePhoneRegister:
		if req.Enabled == nil {
			return nil, fmt.Errorf("%s: %w: enabled (true or false) is required", typ, conversation.ErrInvalid)
		}
		p.register(line, *req.Enabled)
		return map[string]bool{"enabled": *req.Enabled}, nil
	case desk.TypePhoneAnswer, desk.TypePhoneHangup:
		c := p.call(req.CallID, line.RMID())
		if c == nil {
			return nil, fmt.Errorf("%s: call %q: %w", typ, req.CallID, conversation.ErrNotFound)
		}
		if typ == desk.TypePhoneHangup {
			c.hangUp()
			return map[string]string{"call_id": c.id}, nil
		}
		if req.SDP == "" {
			return nil, fmt.Errorf("%s: %w: sdp is required", typ, conversation.ErrInvalid)
		}
		select {
		case c.answer <- req.SDP:
		default:
			return nil, fmt.Errorf("%s: call %s was answered already: %w", typ, c.id, conversation.ErrInvalid)
		}
		return map[string]string{"call_id": c.id}, nil
	}
	return nil, fmt.Errorf("%s: %w (allowed: phone.register, phone.answer, phone.hangup)", typ, conversation.ErrInvalid)
}

// register turns line's softphone on (it takes the RM's calls from now)
// or off (when it is the RM's line).
func (p *softphones) register(line desk.PhoneLine, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rm := line.RMID()
	switch {
	case on:
		p.lines[rm] = line
	case p.lines[rm] == line:
		delete(p.lines, rm)
	}
	p.log.Info("softphone", "rm_id", rm, "enabled", on)
}

// line returns rm's softphone line while its session lives.
func (p *softphones) line(rm conversation.RMID) desk.PhoneLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lines[rm]
	if l == nil {
		return nil
	}
	select {
	case <-l.Closed():
		delete(p.lines, rm)
		return nil
	default:
		return l
	}
}

// call returns the softphone call id of rm.
func (p *softphones) call(id string, rm conversation.RMID) *softCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.calls[id]; c != nil && c.rm == rm {
		return c
	}
	return nil
}

func (p *softphones) forget(c *softCall) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.calls, c.id)
	select {
	case <-c.gone: // the end was reported already
		return
	default:
	}
	if c.bridge.Load() == nil {
		return
	}
	now := time.Now()
	if p.done == nil {
		p.done = map[conversation.ConversationID]time.Time{}
	}
	for id, at := range p.done {
		if now.Sub(at) > softphoneDoneFor {
			delete(p.done, id)
		}
	}
	p.done[c.conv] = now
}

// softphoneDoneFor is how long a bridge that ended first is remembered
// for the SIP side's report of the call's end.
const softphoneDoneFor = 30 * time.Second

// deskPhones is the desk's softphone handler: v's softphones, nil (the
// desk answers phone.* frames unavailable) when voice is off.
func deskPhones(v *voice) desk.Phones {
	if v == nil || v.soft == nil {
		return nil
	}
	return v.soft
}
