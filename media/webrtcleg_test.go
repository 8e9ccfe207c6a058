package media

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// A WebRTCLeg between a pion peer standing for the browser (PCMU, as
// Chromium answers the gateway's offer) and a plain RTP socket standing
// for the caller's bridged leg: RTP flows both ways, the payload arrives
// unchanged (no transcoding), packets from a stranger are dropped, and
// closing the browser's peer connection ends the leg.
func TestWebRTCLegRelaysBothWays(t *testing.T) {
	t.Parallel()
	eng, err := NewWebRTCEngine(WebRTCConfig{Loopback: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leg, err := eng.NewLeg()
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offer, err := leg.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The "browser".
	bpc, btrack := browserPeer(t)
	var heard atomic.Int64
	var wrongPayload atomic.Int64
	bpc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				if p.PayloadType != PayloadPCMU || len(p.Payload) != FrameSamples || p.Payload[0] != 0x2a {
					wrongPayload.Add(1)
				}
				heard.Add(1)
			}
		}()
	})
	if err := bpc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	answer, err := bpc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(bpc)
	if err := bpc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := leg.SetAnswer(bpc.LocalDescription().SDP); err != nil {
		t.Fatal(err)
	}
	if err := leg.SetAnswer("v=0 nonsense"); err == nil {
		t.Error("a second, malformed answer was taken")
	}
	select {
	case <-leg.Connected():
	case <-ctx.Done():
		t.Fatal("ice did not connect")
	}

	// The caller's side: a plain RTP socket.
	sipSide, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sipSide.Close()
	leg.Connect(sipSide.LocalAddr().(*net.UDPAddr).AddrPort())
	runDone := make(chan error, 1)
	go func() { runDone <- leg.Run(context.Background()) }()

	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	frame := make([]byte, RTPHeaderLen+FrameSamples)
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() { // 20 ms frames both ways
		defer close(sent)
		payload := make([]byte, FrameSamples)
		for i := range payload {
			payload[i] = 0x2a
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			PutRTPHeader(frame, i == 0, PayloadPCMU, uint16(i), uint32(i*FrameSamples), 0xca11e4)
			copy(frame[RTPHeaderLen:], payload)
			_, _ = sipSide.WriteToUDPAddrPort(frame, leg.RTPAddr())
			_, _ = stranger.WriteToUDPAddrPort(frame, leg.RTPAddr())
			_ = btrack.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PayloadPCMU, SequenceNumber: uint16(i), Timestamp: uint32(i * FrameSamples), SSRC: 0xb0b}, Payload: payload})
		}
	}()
	fromBrowser := 0
	buf := make([]byte, 1500)
	for fromBrowser < 25 {
		_ = sipSide.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := sipSide.Read(buf)
		if err != nil {
			t.Fatalf("rtp from the browser: %v after %d packets", err, fromBrowser)
		}
		h, err := ParseRTPHeader(buf[:n])
		if err != nil || h.PayloadType != PayloadPCMU || h.PayloadEnd-h.PayloadOffset != FrameSamples || buf[h.PayloadOffset] != 0x2a {
			t.Fatalf("from the browser: %v %v", h, err)
		}
		fromBrowser++
	}
	deadline := time.Now().Add(5 * time.Second)
	for (heard.Load() < 25 || leg.Stats().ToBrowser < 25 || leg.Stats().FromBrowser < 25) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	<-sent
	st := leg.Stats()
	if heard.Load() < 25 || st.ToBrowser < 25 || st.FromBrowser < 25 {
		t.Fatalf("browser heard %d, stats %+v; want at least 25 packets each way", heard.Load(), st)
	}
	if n := wrongPayload.Load(); n != 0 {
		t.Errorf("%d packets reached the browser changed", n)
	}
	if st.Dropped == 0 {
		t.Error("the stranger's packets were not dropped")
	}

	// The browser hangs up: the leg ends.
	_ = bpc.Close()
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the leg did not end when the browser closed")
	}
}

// browserPeer is a pion peer connection with a PCMU track, as a browser
// answering the gateway's offer.
func browserPeer(t *testing.T) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(pcmuCapability, "mic", "browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	return pc, track
}

// The public IP is offered as a server-reflexive candidate beside the
// host ones; a port range pion refuses is an error.
func TestWebRTCEnginePublicIPAndPorts(t *testing.T) {
	t.Parallel()
	eng, err := NewWebRTCEngine(WebRTCConfig{PublicIP: "203.0.113.7", Loopback: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leg, err := eng.NewLeg()
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := leg.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer, "203.0.113.7") || !strings.Contains(offer, "typ srflx") || !strings.Contains(offer, "typ host") {
		t.Errorf("offer lacks the public srflx candidate beside host ones:\n%s", offer)
	}
	if !strings.Contains(offer, "PCMU/8000") || strings.Contains(offer, "opus") {
		t.Errorf("offer is not PCMU only:\n%s", offer)
	}
	if _, err := NewWebRTCEngine(WebRTCConfig{PortMin: 20000, PortMax: 10000}, nil); err == nil {
		t.Error("a reversed port range was taken")
	}
}
