package video_test

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
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// benchIP is the address all benchmark media uses: the host's first
// non-loopback IPv4 address (Janus's ICE does not gather loopback
// addresses, so both servers and the clients use this one; the packets
// still stay inside the host), or 127.0.0.1 when there is none.
func benchIP() net.IP {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.To4()
		}
	}
	return net.IPv4(127, 0, 0, 1).To4()
}

// benchAPI is a pion API for benchmark clients: default codecs and
// interceptors (NACK, RTCP reports, TWCC), UDP on benchIP only.
func benchAPI() (*webrtc.API, error) {
	only := benchIP()
	var se webrtc.SettingEngine
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = lf
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(only) })
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// benchPublisher sends one VP8 video track of generated frames at
// bitrate bits/s and 30 frames/s; a PLI makes the next frame a key frame
// (as a real encoder does), and every 60th frame is one anyway.
type benchPublisher struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
	key   atomic.Bool
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newBenchPublisher(api *webrtc.API, bitrate int) (*benchPublisher, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	if err != nil {
		return nil, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, err
	}
	p := &benchPublisher{pc: pc, track: track, stop: make(chan struct{})}
	p.key.Store(true)
	p.wg.Go(func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				switch pk.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.key.Store(true)
				}
			}
		}
	})
	frameBytes := bitrate / 8 / 30
	p.wg.Go(func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		frame := make([]byte, frameBytes)
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			frame[0] = 0x01 // inter frame (RFC 6386 §9.1: bit 0 set)
			if p.key.Swap(false) || i%60 == 0 {
				frame[0] = 0x10
				copy(frame[3:], []byte{0x9d, 0x01, 0x2a})
			}
			frame[10] = byte(i)
			if err := track.WriteSample(media.Sample{Data: frame, Duration: time.Second / 30}); err != nil {
				return
			}
		}
	})
	return p, nil
}

func (p *benchPublisher) close() {
	close(p.stop)
	_ = p.pc.Close()
	p.wg.Wait()
}

// benchSubscriber receives video and notes when the first packet, and
// the first key frame's first packet, arrived.
type benchSubscriber struct {
	pc      *webrtc.PeerConnection
	start   time.Time
	packets atomic.Uint64
	bytes   atomic.Uint64
	firstKF atomic.Int64 // ns after start; 0: none yet
	gotKF   chan struct{}
	once    sync.Once
}

func newBenchSubscriber(api *webrtc.API) (*benchSubscriber, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	s := &benchSubscriber{pc: pc, start: time.Now(), gotKF: make(chan struct{})}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		var vp8 codecs.VP8Packet
		var lastPLI time.Time
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			s.packets.Add(1)
			s.bytes.Add(uint64(len(p.Payload)))
			if s.firstKF.Load() == 0 {
				if _, err := vp8.Unmarshal(p.Payload); err == nil && vp8.S == 1 && vp8.PID == 0 && len(vp8.Payload) > 0 && vp8.Payload[0]&0x01 == 0 {
					s.firstKF.Store(int64(time.Since(s.start)))
					s.once.Do(func() { close(s.gotKF) })
				} else if time.Since(lastPLI) > 200*time.Millisecond {
					// As a browser's decoder does: no key frame yet, ask for one.
					lastPLI = time.Now()
					_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
				}
			}
		}
	})
	return s, nil
}

// waitKeyFrame waits for the first key frame.
func (s *benchSubscriber) waitKeyFrame(ctx context.Context) (time.Duration, error) {
	select {
	case <-s.gotKF:
		return time.Duration(s.firstKF.Load()), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("no key frame after %s (%d packets): %w", time.Since(s.start), s.packets.Load(), ctx.Err())
	}
}

// completeOffer creates an offer and waits for ICE gathering (for
// servers signalled without trickle).
func completeOffer(ctx context.Context, pc *webrtc.PeerConnection) (webrtc.SessionDescription, error) {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return o, err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return o, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return o, ctx.Err()
	}
	return *pc.LocalDescription(), nil
}

// completeAnswer applies a remote offer and answers it after gathering.
func completeAnswer(ctx context.Context, pc *webrtc.PeerConnection, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if err := pc.SetRemoteDescription(offer); err != nil {
		return offer, err
	}
	a, err := pc.CreateAnswer(nil)
	if err != nil {
		return a, err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(a); err != nil {
		return a, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return a, ctx.Err()
	}
	return *pc.LocalDescription(), nil
}

var errBench = errors.New("bench")
