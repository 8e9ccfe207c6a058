// Package sfutest provides a pion WebRTC client for tests of the SFU and
// of the signalling built on it: a Peer publishes generated Opus and VP8
// samples, answers the server's offers (as the impolite peer of perfect
// negotiation, W3C WebRTC 1.0 §10.7) and counts the RTP packets it
// receives per track. It gathers loopback candidates only.
package sfutest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Signal is one signalling message either way: a description or a
// candidate.
type Signal struct {
	Desc *webrtc.SessionDescription
	Cand *webrtc.ICECandidateInit
}

// Peer is a test client.
type Peer struct {
	Name string
	PC   *webrtc.PeerConnection
	out  func(Signal)

	emitMu sync.Mutex
	mu     sync.Mutex
	recv   map[string]*atomic.Uint64 // "stream/track" -> packets
	plis   atomic.Uint64
	wake   chan struct{}
	// echo holds, by kind, the track that sends back the first remote
	// track of that kind received (AddEcho), and that remote track.
	echo map[string]*echo
	// observe, when set, is shown every RTP packet received (Observe).
	observe atomic.Pointer[func(key string, p *rtp.Packet)]

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewPeer returns a Peer whose outgoing signals go to out (called one at
// a time, in order).
func NewPeer(name string, out func(Signal)) (*Peer, error) {
	var se webrtc.SettingEngine
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = lf
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &Peer{Name: name, PC: pc, out: out, recv: map[string]*atomic.Uint64{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), echo: map[string]*echo{}}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		p.emitMu.Lock()
		defer p.emitMu.Unlock()
		init := c.ToJSON()
		p.out(Signal{Cand: &init})
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		key := t.StreamID() + "/" + t.ID()
		p.mu.Lock()
		n, ok := p.recv[key]
		if !ok {
			n = new(atomic.Uint64)
			p.recv[key] = n
		}
		e := p.echo[t.Kind().String()]
		if e != nil && e.src.Load() == nil {
			e.src.Store(t)
		} else {
			e = nil
		}
		p.mu.Unlock()
		if e != nil {
			// Whatever the source's first frames were, start from a key frame.
			_ = p.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
		}
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			k, _, err := t.Read(buf)
			if err != nil {
				return
			}
			obs := p.observe.Load()
			if (e != nil || obs != nil) && pkt.Unmarshal(buf[:k]) == nil {
				if e != nil {
					_ = e.local.WriteRTP(&pkt)
				}
				if obs != nil {
					(*obs)(key, &pkt)
				}
			}
			n.Add(1)
			p.notify()
		}
	})
	return p, nil
}

func (p *Peer) notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// AddTrack adds a track of kind "audio" (Opus, 20 ms samples) or "video"
// (VP8, 33 ms generated frames, a key frame every 30) with id and
// starts writing samples until Close. It does not renegotiate.
func (p *Peer) AddTrack(kind, id string) (*webrtc.RTPSender, error) {
	var codec webrtc.RTPCodecCapability
	every := 20 * time.Millisecond
	switch kind {
	case "audio":
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	case "video":
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		every = 33 * time.Millisecond
	default:
		return nil, fmt.Errorf("sfutest: kind %q", kind)
	}
	track, err := webrtc.NewTrackLocalStaticSample(codec, id, p.Name)
	if err != nil {
		return nil, err
	}
	sender, err := p.PC.AddTrack(track)
	if err != nil {
		return nil, err
	}
	p.wg.Go(func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				if _, ok := pk.(*rtcp.PictureLossIndication); ok {
					p.plis.Add(1)
					p.notify()
				}
			}
		}
	})
	p.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			if err := track.WriteSample(media.Sample{Data: Frame(kind, i), Duration: every}); err != nil {
				return
			}
		}
	})
	return sender, nil
}

// echo sends back a received track.
type echo struct {
	local *webrtc.TrackLocalStaticRTP
	src   atomic.Pointer[webrtc.TrackRemote]
}

// AddEcho adds a track of kind "audio" (Opus) or "video" (VP8) with id
// that sends back, packet by packet, the first remote track of that kind
// the peer receives (for a browser that must decode real frames: pion
// has no encoder). A key-frame request from the SFU for it is passed on
// to the source. It does not renegotiate.
func (p *Peer) AddEcho(kind, id string) (*webrtc.RTPSender, error) {
	var codec webrtc.RTPCodecCapability
	switch kind {
	case "audio":
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	case "video":
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	default:
		return nil, fmt.Errorf("sfutest: kind %q", kind)
	}
	local, err := webrtc.NewTrackLocalStaticRTP(codec, id, p.Name)
	if err != nil {
		return nil, err
	}
	sender, err := p.PC.AddTrack(local)
	if err != nil {
		return nil, err
	}
	e := &echo{local: local}
	p.mu.Lock()
	p.echo[kind] = e
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				switch pk.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.plis.Add(1)
					if src := e.src.Load(); src != nil {
						_ = p.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(src.SSRC())}})
					}
				}
			}
		}
	})
	return sender, nil
}

// Frame returns generated sample i of kind: an Opus-sized payload, or a
// VP8 frame whose first byte marks every 30th a key frame (RFC 6386
// §9.1). No decoder reads them; the SFU does not decode.
func Frame(kind string, i int) []byte {
	if kind == "audio" {
		b := make([]byte, 80)
		b[0] = 0xfc // Opus TOC: CELT FB 20 ms, one frame (RFC 6716 §3.1)
		b[1] = byte(i)
		return b
	}
	b := make([]byte, 1200)
	b[0] = 0x01 // inter frame
	if i%30 == 0 {
		b[0] = 0x10
		copy(b[3:], []byte{0x9d, 0x01, 0x2a})
	}
	b[10] = byte(i)
	return b
}

// Offer creates and applies an offer (iceRestart: new ICE credentials)
// and sends it.
func (p *Peer) Offer(iceRestart bool) error {
	offer, err := p.PC.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart})
	if err != nil {
		return err
	}
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	if err := p.PC.SetLocalDescription(offer); err != nil {
		return err
	}
	p.out(Signal{Desc: &offer})
	return nil
}

// Handle applies a signal from the server: an answer, an offer (answered
// through out; ignored when it collides with the peer's own offer) or a
// candidate.
func (p *Peer) Handle(s Signal) error {
	switch {
	case s.Cand != nil:
		return p.PC.AddICECandidate(*s.Cand)
	case s.Desc == nil:
		return errors.New("sfutest: empty signal")
	case s.Desc.Type == webrtc.SDPTypeAnswer:
		return p.PC.SetRemoteDescription(*s.Desc)
	}
	if p.PC.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		return nil // impolite: the server rolls back and offers again
	}
	// Candidates gathered from here on (an ICE restart starts gathering
	// in SetRemoteDescription) must follow the answer.
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	if err := p.PC.SetRemoteDescription(*s.Desc); err != nil {
		return fmt.Errorf("set remote offer: %w", err)
	}
	answer, err := p.PC.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := p.PC.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	p.out(Signal{Desc: &answer})
	return nil
}

// Observe shows fn every RTP packet received from now on, with its
// "stream/track" key, from the track's reading goroutine (one per track);
// fn must not keep p.
func (p *Peer) Observe(fn func(key string, p *rtp.Packet)) { p.observe.Store(&fn) }

// Received returns the packets received per "stream/track" so far.
func (p *Peer) Received() map[string]uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]uint64, len(p.recv))
	for k, n := range p.recv {
		m[k] = n.Load()
	}
	return m
}

// PLIs is the number of PLI packets the peer's senders received.
func (p *Peer) PLIs() uint64 { return p.plis.Load() }

// WaitPackets waits until each of keys ("stream/track") has at least n
// packets, or ctx ends (the error then says what was received).
func (p *Peer) WaitPackets(ctx context.Context, keys []string, n uint64) error {
	return p.WaitFor(ctx, fmt.Sprintf("%d packets on %v", n, keys), func() bool {
		got := p.Received()
		for _, k := range keys {
			if got[k] < n {
				return false
			}
		}
		return true
	})
}

// WaitFor waits until cond holds, checking it whenever a packet or a PLI
// arrives, or until ctx ends (the error names what and what was
// received). One goroutine at a time waits on a Peer.
func (p *Peer) WaitFor(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %s: received %v: %w", p.Name, what, p.Received(), ctx.Err())
		case <-p.wake:
		}
	}
	return nil
}

// Close stops the sample writers and closes the PeerConnection.
func (p *Peer) Close() error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	err := p.PC.Close()
	p.wg.Wait()
	return err
}
