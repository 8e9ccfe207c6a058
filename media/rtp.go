package media

import (
	"encoding/binary"
	"fmt"
)

// RTPHeaderLen is the length in bytes of an RTP fixed header without CSRCs
// (RFC 3550 §5.1).
const RTPHeaderLen = 12

// RTPHeader holds the fields of an RTP fixed header (RFC 3550 §5.1) that
// the gateway reads or rewrites. Payload starts at PayloadOffset bytes into
// the packet, after CSRCs and any header extension; Padding bytes at the end
// are excluded from the payload by PayloadEnd.
type RTPHeader struct {
	Marker         bool
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	PayloadOffset  int
	PayloadEnd     int
}

// ParseRTPHeader reads the header of the RTP packet b without allocating.
// Errors wrap ErrBadRTP.
func ParseRTPHeader(b []byte) (RTPHeader, error) {
	var h RTPHeader
	if len(b) < RTPHeaderLen || b[0]>>6 != 2 {
		return h, ErrBadRTP
	}
	cc := int(b[0] & 0x0f)
	off := RTPHeaderLen + 4*cc
	if b[0]&0x10 != 0 { // header extension, RFC 3550 §5.3.1
		if len(b) < off+4 {
			return h, ErrBadRTP
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding, RFC 3550 §5.1
		if end == 0 || int(b[end-1]) > end-off {
			return h, ErrBadRTP
		}
		end -= int(b[end-1])
	}
	if off > end {
		return h, ErrBadRTP
	}
	h.Marker = b[1]&0x80 != 0
	h.PayloadType = b[1] & 0x7f
	h.SequenceNumber = binary.BigEndian.Uint16(b[2:])
	h.Timestamp = binary.BigEndian.Uint32(b[4:])
	h.SSRC = binary.BigEndian.Uint32(b[8:])
	h.PayloadOffset = off
	h.PayloadEnd = end
	return h, nil
}

// PutRTPHeader writes a 12-byte RTP fixed header (version 2, no padding,
// extension or CSRC) into b, which must hold at least RTPHeaderLen bytes.
func PutRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// String implements fmt.Stringer for test failure messages.
func (h RTPHeader) String() string {
	return fmt.Sprintf("pt=%d seq=%d ts=%d ssrc=%08x m=%t", h.PayloadType, h.SequenceNumber, h.Timestamp, h.SSRC, h.Marker)
}
