package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// SessionDescription is what the gateway reads from an SDP body (RFC 4566):
// the first audio media line, its connection address and port, its payload
// types in preference order with their rtpmap names, and its direction.
type SessionDescription struct {
	// Addr is the audio connection address and port (media-level c= over
	// session-level c=, RFC 4566 §5.7). Port 0 means the stream is
	// rejected (RFC 3264 §6).
	Addr netip.AddrPort
	// Proto is the m= transport, e.g. "RTP/AVP".
	Proto string
	// PayloadTypes lists the m= formats in the offerer's order.
	PayloadTypes []uint8
	// RTPMap maps a payload type to its encoding name and clock rate in
	// upper case, e.g. 101 -> "TELEPHONE-EVENT/8000".
	RTPMap map[uint8]string
	// Direction is sendrecv, sendonly, recvonly or inactive (RFC 3264 §5.1);
	// sendrecv when absent.
	Direction string
}

// ParseSDP reads body as an SDP session description (RFC 4566 §5). Only the
// first m=audio line is kept. Errors wrap ErrBadSDP.
func ParseSDP(body []byte) (SessionDescription, error) {
	sd := SessionDescription{RTPMap: map[uint8]string{}, Direction: "sendrecv"}
	var sessionAddr, mediaAddr netip.Addr
	inAudio, seenAudio, seenVersion := false, false, false
	port := -1
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 2 || line[1] != '=' {
			if strings.TrimSpace(line) == "" {
				continue
			}
			return sd, fmt.Errorf("sdp line %q: %w", truncate(line), ErrBadSDP)
		}
		key, val := line[0], line[2:]
		switch key {
		case 'v':
			seenVersion = true
		case 'm':
			inAudio = false
			f := strings.Fields(val)
			if len(f) < 3 {
				return sd, fmt.Errorf("sdp media line %q: %w", truncate(line), ErrBadSDP)
			}
			if f[0] != "audio" || seenAudio {
				continue
			}
			p, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || p < 0 || p > 65535 {
				return sd, fmt.Errorf("sdp media port %q: %w", f[1], ErrBadSDP)
			}
			port, inAudio, seenAudio = p, true, true
			sd.Proto = f[2]
			for _, s := range f[3:] {
				pt, err := strconv.ParseUint(s, 10, 8)
				if err != nil || pt > 127 {
					if strings.HasPrefix(sd.Proto, "RTP/") {
						return sd, fmt.Errorf("sdp payload type %q: %w", s, ErrBadSDP)
					}
					continue
				}
				sd.PayloadTypes = append(sd.PayloadTypes, uint8(pt))
			}
		case 'c':
			f := strings.Fields(val)
			if len(f) != 3 || f[0] != "IN" {
				return sd, fmt.Errorf("sdp connection %q: %w", truncate(line), ErrBadSDP)
			}
			a, err := netip.ParseAddr(strings.SplitN(f[2], "/", 2)[0])
			if err != nil {
				return sd, fmt.Errorf("sdp connection address %q: %w", f[2], ErrBadSDP)
			}
			if inAudio {
				mediaAddr = a
			} else if !seenAudio {
				sessionAddr = a
			}
		case 'a':
			if !inAudio {
				if isDirection(val) && !seenAudio {
					sd.Direction = val
				}
				continue
			}
			if isDirection(val) {
				sd.Direction = val
				continue
			}
			if rest, ok := strings.CutPrefix(val, "rtpmap:"); ok {
				f := strings.Fields(rest)
				if len(f) < 2 {
					return sd, fmt.Errorf("sdp rtpmap %q: %w", truncate(line), ErrBadSDP)
				}
				pt, err := strconv.ParseUint(f[0], 10, 8)
				if err != nil || pt > 127 {
					return sd, fmt.Errorf("sdp rtpmap payload type %q: %w", f[0], ErrBadSDP)
				}
				sd.RTPMap[uint8(pt)] = strings.ToUpper(f[1])
			}
		}
	}
	if !seenVersion || !seenAudio {
		return sd, fmt.Errorf("sdp without version or audio media: %w", ErrBadSDP)
	}
	addr := mediaAddr
	if !addr.IsValid() {
		addr = sessionAddr
	}
	if !addr.IsValid() {
		return sd, fmt.Errorf("sdp audio without connection address: %w", ErrBadSDP)
	}
	sd.Addr = netip.AddrPortFrom(addr.Unmap(), uint16(port))
	return sd, nil
}

func isDirection(v string) bool {
	return v == "sendrecv" || v == "sendonly" || v == "recvonly" || v == "inactive"
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// encoding returns the upper-case "NAME/RATE" of pt, from its rtpmap or the
// static table (RFC 3551 §6).
func (sd SessionDescription) encoding(pt uint8) string {
	if e, ok := sd.RTPMap[pt]; ok {
		if strings.Count(e, "/") > 1 { // "PCMU/8000/1": drop channels
			e = e[:strings.LastIndex(e, "/")]
		}
		return e
	}
	switch pt {
	case PayloadPCMU:
		return "PCMU/8000"
	case PayloadPCMA:
		return "PCMA/8000"
	}
	return ""
}

// Negotiation is the outcome of matching a remote description: the codec
// and payload types both sides use, and where to send RTP.
type Negotiation struct {
	Codec Codec
	// AudioPT is the payload type of Codec (0 or 8).
	AudioPT uint8
	// EventPT is the remote's telephone-event payload type (RFC 4733
	// §7.1.1), 0 when it offered none.
	EventPT uint8
	// Remote is where the remote wants RTP sent, before latching.
	Remote netip.AddrPort
}

// Negotiate picks, from the remote description sd (an offer, or the answer
// to an offer the gateway made), the first PCMU or PCMA payload type in the
// remote's order and its telephone-event/8000 payload type if any (RFC 3264
// §6.1). prefer, when not CodecNone, is taken if the remote lists it at all
// (a bridge uses it to avoid transcoding). Errors wrap ErrNoCommonCodec: a
// non-RTP/AVP profile (e.g. RTP/SAVP), a rejected stream (port 0), or
// neither G.711 codec.
func Negotiate(sd SessionDescription, prefer Codec) (Negotiation, error) {
	var n Negotiation
	if sd.Proto != "RTP/AVP" || sd.Addr.Port() == 0 {
		return n, fmt.Errorf("audio %s port %d: %w", sd.Proto, sd.Addr.Port(), ErrNoCommonCodec)
	}
	for _, pt := range sd.PayloadTypes {
		var c Codec
		switch sd.encoding(pt) {
		case "PCMU/8000":
			c = CodecPCMU
		case "PCMA/8000":
			c = CodecPCMA
		case "TELEPHONE-EVENT/8000":
			if n.EventPT == 0 {
				n.EventPT = pt
			}
			continue
		default:
			continue
		}
		if n.Codec == CodecNone || (c == prefer && n.Codec != prefer) {
			n.Codec, n.AudioPT = c, pt
		}
	}
	if n.Codec == CodecNone {
		return n, fmt.Errorf("audio formats %v: %w", sd.PayloadTypes, ErrNoCommonCodec)
	}
	n.Remote = sd.Addr
	return n, nil
}

// SDPParams describes the gateway's side of a description to build.
type SDPParams struct {
	// SessionID is the o= session id and version (RFC 4566 §5.2); use a
	// number that is unique per leg, e.g. the leg's creation time.
	SessionID uint64
	// Addr is the public address and RTP port announced in c= and m=.
	Addr netip.AddrPort
	// Codecs lists the audio codecs to offer or the one answered, in
	// preference order.
	Codecs []Codec
	// EventPT is the telephone-event payload type, 0 for none.
	EventPT uint8
	// Direction is the stream's direction attribute (RFC 3264 §5.1):
	// sendrecv (the default when empty), sendonly, recvonly or inactive.
	Direction string
}

// BuildSDP returns an SDP body (RFC 4566, CRLF line ends) with one audio
// stream at 20 ms ptime, sendrecv unless p.Direction says otherwise.
func BuildSDP(p SDPParams) []byte {
	ipVer := "IP4"
	if p.Addr.Addr().Is6() {
		ipVer = "IP6"
	}
	if p.SessionID == 0 {
		p.SessionID = uint64(time.Now().UnixNano())
	}
	var b strings.Builder
	ip := p.Addr.Addr().String()
	fmt.Fprintf(&b, "v=0\r\no=airbranch %d %d IN %s %s\r\ns=airbranch\r\nc=IN %s %s\r\nt=0 0\r\n", p.SessionID, p.SessionID, ipVer, ip, ipVer, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", p.Addr.Port())
	for _, c := range p.Codecs {
		fmt.Fprintf(&b, " %d", c.PayloadType())
	}
	if p.EventPT != 0 {
		fmt.Fprintf(&b, " %d", p.EventPT)
	}
	b.WriteString("\r\n")
	for _, c := range p.Codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.PayloadType(), c)
	}
	if p.EventPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", p.EventPT, p.EventPT)
	}
	dir := p.Direction
	if !isDirection(dir) {
		dir = "sendrecv"
	}
	b.WriteString("a=ptime:20\r\na=" + dir + "\r\n")
	return []byte(b.String())
}
