package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// WebRTCConfig configures the WebRTC side of browser softphones.
type WebRTCConfig struct {
	// PublicIP, when set, is announced as a server-reflexive ICE candidate
	// beside the interfaces' host candidates (a 1:1 NAT, RFC 8445
	// §5.1.1.1), so browsers outside and inside the NAT both reach the
	// gateway.
	PublicIP string
	// PortMin and PortMax bound the UDP ports ICE gathers on (both 0: the
	// system chooses).
	PortMin, PortMax uint16
	// Loopback includes 127.0.0.1 candidates (a browser on the gateway's
	// own host, as in tests).
	Loopback bool
}

// ICE timeouts of softphone legs: a browser silent this long is taken for
// gone (RFC 8445 §7.3 consent freshness, pion's defaults are slower).
const (
	webrtcDisconnectedAfter = 5 * time.Second
	webrtcFailedAfter       = 10 * time.Second
	webrtcKeepalive         = 2 * time.Second
)

// WebRTCEngine makes WebRTCLegs sharing one pion API: audio only, PCMU
// (payload type 0, RFC 3551) as the only codec, so what the browser sends
// is relayed to a G.711 RTP leg without transcoding; DTLS-SRTP (RFC 5764)
// and ICE (RFC 8445) as WebRTC requires.
type WebRTCEngine struct {
	api *webrtc.API
	log *slog.Logger
}

// NewWebRTCEngine returns an engine for cfg; log may be nil. Errors: a
// port range or public IP pion refuses.
func NewWebRTCEngine(cfg WebRTCConfig, log *slog.Logger) (*WebRTCEngine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLoggers{log: log.With("component", "pion")}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	se.SetIncludeLoopbackCandidate(cfg.Loopback)
	se.SetICETimeouts(webrtcDisconnectedAfter, webrtcFailedAfter, webrtcKeepalive)
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("webrtc: port range %d-%d: %w", cfg.PortMin, cfg.PortMax, err)
		}
	}
	if cfg.PublicIP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: []string{cfg.PublicIP}, AsCandidateType: webrtc.ICECandidateTypeSrflx,
		}); err != nil {
			return nil, fmt.Errorf("webrtc: public ip %s: %w", cfg.PublicIP, err)
		}
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: pcmuCapability, PayloadType: webrtc.PayloadType(PayloadPCMU)}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("webrtc: codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, fmt.Errorf("webrtc: interceptors: %w", err)
	}
	return &WebRTCEngine{api: webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), log: log}, nil
}

// pcmuCapability is G.711 µ-law, 8 kHz mono (RFC 3551 §4.5.14).
var pcmuCapability = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: SampleRate, Channels: 1}

// WebRTCLeg is a browser's audio as a plain RTP endpoint of the gateway:
// a pion PeerConnection with one sendrecv PCMU track on the browser's
// side, and a UDP socket on 127.0.0.1 (RTPAddr) on the gateway's. RTP that
// arrives on the socket from the peer set with Connect (the caller's
// bridged Leg) is sent to the browser over SRTP; RTP the browser sends is
// sent from the socket to that peer, unchanged (payload type 0, the
// browser's sequence numbers and timestamps; the Leg relaying it rewrites
// them for the caller). Signalling is the caller's: Offer gives the
// gateway's SDP offer with every ICE candidate (no trickle), SetAnswer
// takes the browser's answer.
//
// Run moves the packets; Done is closed when the browser's side ends (the
// peer connection failed or closed) or the leg is closed.
type WebRTCLeg struct {
	log   *slog.Logger
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	conn  *net.UDPConn
	local netip.AddrPort
	peer  atomic.Pointer[netip.AddrPort]

	remote    chan *webrtc.TrackRemote
	connected chan struct{}
	done      chan struct{}
	connOnce  sync.Once
	doneOnce  sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup

	toBrowser, fromBrowser, dropped atomic.Uint64
}

// WebRTCLegStats are a WebRTCLeg's packet counters since it was created.
type WebRTCLegStats struct {
	// ToBrowser counts RTP packets received from the peer and written to
	// the browser's track.
	ToBrowser uint64
	// FromBrowser counts RTP packets received from the browser and sent
	// to the peer.
	FromBrowser uint64
	// Dropped counts datagrams ignored: from another source than the
	// peer, malformed, or arriving before Connect.
	Dropped uint64
}

// NewLeg opens a leg: its RTP socket on 127.0.0.1 and a peer connection
// with the PCMU track. Close releases both.
func (e *WebRTCEngine) NewLeg() (*WebRTCLeg, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("webrtc leg: rtp socket: %w", err)
	}
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("webrtc leg: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(pcmuCapability, "audio", "airbranch")
	if err != nil {
		_ = pc.Close()
		_ = conn.Close()
		return nil, fmt.Errorf("webrtc leg: track: %w", err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		_ = pc.Close()
		_ = conn.Close()
		return nil, fmt.Errorf("webrtc leg: add track: %w", err)
	}
	l := &WebRTCLeg{log: e.log, pc: pc, track: track, conn: conn, remote: make(chan *webrtc.TrackRemote, 1),
		connected: make(chan struct{}), done: make(chan struct{})}
	l.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			select {
			case l.remote <- tr:
			default:
			}
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			l.connOnce.Do(func() { close(l.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			l.doneOnce.Do(func() { close(l.done) })
		}
	})
	// RTCP from the browser (receiver reports) must be read for the
	// interceptors to run; it ends when the peer connection closes.
	l.wg.Go(func() {
		buf := make([]byte, maxPacket)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	})
	return l, nil
}

// RTPAddr is the leg's plain RTP socket (127.0.0.1), where the peer sends
// what the browser must hear.
func (l *WebRTCLeg) RTPAddr() netip.AddrPort { return l.local }

// Connect sets where RTP from the browser goes (the bridged Leg's local
// address); packets from elsewhere are dropped.
func (l *WebRTCLeg) Connect(peer netip.AddrPort) { l.peer.Store(&peer) }

// Offer makes the gateway's SDP offer (RFC 3264, JSEP RFC 8829 §5.2): one
// sendrecv audio section with PCMU only, and every ICE candidate, once
// gathering is complete or ctx ends (errors: ctx's, pion's).
func (l *WebRTCLeg) Offer(ctx context.Context) (string, error) {
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("webrtc offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc offer: gathering: %w", ctx.Err())
	}
	return l.pc.LocalDescription().SDP, nil
}

// SetAnswer applies the browser's SDP answer; ICE then connects
// (Connected). An answer pion cannot apply wraps ErrBadSDP.
func (l *WebRTCLeg) SetAnswer(sdp string) error {
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("webrtc answer: %w: %v", ErrBadSDP, err)
	}
	return nil
}

// Connected is closed once ICE and DTLS are up.
func (l *WebRTCLeg) Connected() <-chan struct{} { return l.connected }

// Done is closed when the browser's side has ended (the peer connection
// failed, e.g. ICE consent lost, or closed), and by Close.
func (l *WebRTCLeg) Done() <-chan struct{} { return l.done }

// Stats returns the leg's counters.
func (l *WebRTCLeg) Stats() WebRTCLegStats {
	return WebRTCLegStats{ToBrowser: l.toBrowser.Load(), FromBrowser: l.fromBrowser.Load(), Dropped: l.dropped.Load()}
}

// Close ends the peer connection and closes the socket; Run then returns.
// It is safe to call twice.
func (l *WebRTCLeg) Close() error {
	var err error
	l.closeOnce.Do(func() {
		err = l.pc.Close()
		_ = l.conn.Close()
		l.doneOnce.Do(func() { close(l.done) })
		l.wg.Wait()
	})
	return err
}

// Run moves RTP both ways until ctx ends, the leg is closed or the
// browser's side ends; then it closes the leg and returns nil.
func (l *WebRTCLeg) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(l.toBrowserLoop)
	wg.Go(func() {
		select {
		case tr := <-l.remote:
			l.fromBrowserLoop(tr)
		case <-l.done:
		}
	})
	<-l.done
	_ = l.Close()
	wg.Wait()
	return nil
}

// toBrowserLoop sends what the peer sends to the socket to the browser.
func (l *WebRTCLeg) toBrowserLoop() {
	var buf [maxPacket]byte
	var pkt rtp.Packet
	for {
		n, src, err := l.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			return
		}
		p := l.peer.Load()
		if p == nil || netip.AddrPortFrom(src.Addr().Unmap(), src.Port()) != *p || pkt.Unmarshal(buf[:n]) != nil {
			l.dropped.Add(1)
			continue
		}
		if err := l.track.WriteRTP(&pkt); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.dropped.Add(1)
			continue
		}
		l.toBrowser.Add(1)
	}
}

// fromBrowserLoop sends what the browser sends to the peer.
func (l *WebRTCLeg) fromBrowserLoop(tr *webrtc.TrackRemote) {
	var buf [maxPacket]byte
	for {
		n, _, err := tr.Read(buf[:])
		if err != nil {
			return
		}
		p := l.peer.Load()
		if p == nil {
			l.dropped.Add(1)
			continue
		}
		if _, err := l.conn.WriteToUDPAddrPort(buf[:n], *p); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.dropped.Add(1)
			continue
		}
		l.fromBrowser.Add(1)
	}
}
