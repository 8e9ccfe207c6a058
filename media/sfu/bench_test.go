package sfu_test

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// BenchmarkForward sends b.N VP8 RTP packets (1,200-byte payloads) from
// one publisher through the SFU to three subscribers on loopback and
// reports the packets forwarded per second (fwd_pkts/s, counted at the
// subscribers) and the share lost (lost_%: queue drops and loopback UDP
// overflow when the publisher outruns the path).
func BenchmarkForward(b *testing.B) {
	s := newSFU(b)
	room, err := s.NewRoom("bench")
	if err != nil {
		b.Fatal(err)
	}
	pub := join(b, room, "pub", false)
	local, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pub.peer.PC.AddTrack(local); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pub.peer.Offer(false); err != nil {
		b.Fatal(err)
	}
	var subs []*sfutest.Peer
	for _, n := range []string{"s1", "s2", "s3"} {
		l := join(b, room, n, false)
		if _, err := l.peer.PC.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			b.Fatal(err)
		}
		if err := l.peer.Offer(false); err != nil {
			b.Fatal(err)
		}
		subs = append(subs, l.peer)
	}
	payload := make([]byte, 1200)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}, Payload: payload}
	// Warm up until every subscriber receives (a packet every 5 ms).
	for _, p := range subs {
		for p.Received()["pub/video"] == 0 {
			pkt.SequenceNumber++
			pkt.Timestamp += 3000
			_ = local.WriteRTP(pkt)
			select {
			case <-time.After(5 * time.Millisecond):
			case <-ctx.Done():
				b.Fatalf("%s received nothing", p.Name)
			}
		}
	}
	base := uint64(0)
	for _, p := range subs {
		base += p.Received()["pub/video"]
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		pkt.SequenceNumber++
		pkt.Timestamp += 3000
		if err := local.WriteRTP(pkt); err != nil {
			b.Fatal(err)
		}
	}
	// Let the tail arrive: stop when nothing more comes for 200 ms.
	var got uint64
	for {
		n := uint64(0)
		for _, p := range subs {
			n += p.Received()["pub/video"]
		}
		if n == got && n > 0 {
			break
		}
		got = n
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
	}
	elapsed := time.Since(start) - 200*time.Millisecond
	b.StopTimer()
	fwd := got - base
	b.ReportMetric(float64(fwd)/elapsed.Seconds(), "fwd_pkts/s")
	b.ReportMetric(100*(1-float64(fwd)/float64(3*b.N)), "lost_%")
}
