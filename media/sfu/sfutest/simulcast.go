package sfutest

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Simulcast is a VP8 video track published in several simulcast layers
// (RIDs, RFC 8853), as a browser does with sendEncodings.
type Simulcast struct {
	peer   *Peer
	sender *webrtc.RTPSender
	layers []*simLayer
}

type simLayer struct {
	rid    string
	marker byte
	track  *webrtc.TrackLocalStaticRTP
	paused atomic.Bool
	// key: the next frame is a key frame (the first, or after a PLI).
	key  atomic.Bool
	plis atomic.Uint64
}

// LayerMarkerOffset is the offset in every RTP payload AddSimulcast sends
// of the byte that names its layer: the RID's first byte.
const LayerMarkerOffset = 11

// AddSimulcast adds a VP8 video track with id sent in one layer per rid
// (each a TrackLocalStaticRTP with its RID, in one RTPSender). Every 33 ms
// each layer that is not paused sends one frame in one RTP packet
// carrying the MID and RID header extensions (RFC 8843, RFC 8852); the
// payload is a VP8 payload descriptor (RFC 7741) then a generated frame
// whose byte LayerMarkerOffset is the RID's first byte. A layer sends a key
// frame first and then only after a PLI for it (so a subscriber can only
// switch to it after asking). It does not renegotiate.
func (p *Peer) AddSimulcast(id string, rids ...string) (*Simulcast, error) {
	if len(rids) == 0 {
		return nil, fmt.Errorf("sfutest: no rid")
	}
	s := &Simulcast{peer: p}
	for _, rid := range rids {
		t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, id, p.Name, webrtc.WithRTPStreamID(rid))
		if err != nil {
			return nil, err
		}
		l := &simLayer{rid: rid, marker: rid[0], track: t}
		l.key.Store(true)
		s.layers = append(s.layers, l)
	}
	sender, err := p.PC.AddTrack(s.layers[0].track)
	if err != nil {
		return nil, err
	}
	for _, l := range s.layers[1:] {
		if err := sender.AddEncoding(l.track); err != nil {
			return nil, err
		}
	}
	s.sender = sender
	for _, l := range s.layers {
		p.wg.Go(func() {
			for {
				pkts, _, err := sender.ReadSimulcastRTCP(l.rid)
				if err != nil {
					return
				}
				for _, pk := range pkts {
					switch pk.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						l.plis.Add(1)
						l.key.Store(true)
						p.plis.Add(1)
						p.notify()
					}
				}
			}
		})
	}
	p.wg.Go(s.send)
	return s, nil
}

// Pause stops (true) or resumes (false) the layer rid, as an encoder that
// drops a layer for lack of bandwidth; a resumed layer starts with a key
// frame.
func (s *Simulcast) Pause(rid string, paused bool) {
	for _, l := range s.layers {
		if l.rid == rid {
			if !paused {
				l.key.Store(true)
			}
			l.paused.Store(paused)
		}
	}
}

// PLIs is the number of key-frame requests the layer rid received.
func (s *Simulcast) PLIs(rid string) uint64 {
	for _, l := range s.layers {
		if l.rid == rid {
			return l.plis.Load()
		}
	}
	return 0
}

// send writes the layers' frames until the peer closes.
func (s *Simulcast) send() {
	tick := time.NewTicker(33 * time.Millisecond)
	defer tick.Stop()
	var midID, ridID uint8
	var mid string
	seq := make([]uint16, len(s.layers))
	for i := 0; ; i++ {
		select {
		case <-s.peer.stop:
			return
		case <-tick.C:
		}
		if mid == "" {
			// The MID and the extensions' ids are known once negotiated.
			if tr := s.transceiver(); tr != nil {
				mid = tr.Mid()
			}
			for _, e := range s.sender.GetParameters().HeaderExtensions {
				switch e.URI {
				case "urn:ietf:params:rtp-hdrext:sdes:mid": // RFC 8843
					midID = uint8(e.ID)
				case "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id": // RFC 8852
					ridID = uint8(e.ID)
				}
			}
			if mid == "" || midID == 0 || ridID == 0 {
				mid = ""
				continue
			}
		}
		for j, l := range s.layers {
			if l.paused.Load() {
				continue
			}
			payload := make([]byte, 1+600)
			payload[0] = 0x10 // VP8 descriptor: S=1, PID=0
			payload[1] = 0x01 // inter frame (P=1)
			if l.key.Swap(false) {
				payload[1] = 0x10 // key frame (P=0), RFC 6386 §9.1
				copy(payload[4:], []byte{0x9d, 0x01, 0x2a})
			}
			payload[LayerMarkerOffset] = l.marker
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: seq[j], Timestamp: uint32(i) * 3000}, Payload: payload}
			seq[j]++
			if err := pkt.Header.SetExtension(midID, []byte(mid)); err != nil {
				return
			}
			if err := pkt.Header.SetExtension(ridID, []byte(l.rid)); err != nil {
				return
			}
			if err := l.track.WriteRTP(pkt); err != nil {
				return
			}
		}
	}
}

func (s *Simulcast) transceiver() *webrtc.RTPTransceiver {
	for _, tr := range s.peer.PC.GetTransceivers() {
		if tr.Sender() == s.sender {
			return tr
		}
	}
	return nil
}
