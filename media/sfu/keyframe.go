package sfu

import (
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// keyframeDetector reports whether an RTP packet starts a key frame, so
// that a subscriber can switch simulcast layers there.
type keyframeDetector func(payload []byte) bool

// detectorFor returns the detector of a codec: VP8 (RFC 7741), VP9
// (draft-ietf-payload-vp9 / RFC 9628) and H.264 (RFC 6184). Other codecs
// switch at the first packet after the key-frame request (the decoder
// recovers at the next key frame).
func detectorFor(mime string) keyframeDetector {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8Keyframe
	case strings.EqualFold(mime, webrtc.MimeTypeVP9):
		return vp9Keyframe
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264Keyframe
	}
	return func([]byte) bool { return true }
}

// startsKeyframe reports whether the RTP packet b starts a key frame for
// detect.
func startsKeyframe(b []byte, detect keyframeDetector) bool {
	var h rtp.Header
	n, err := h.Unmarshal(b)
	if err != nil || n >= len(b) {
		return false
	}
	end := len(b)
	if h.Padding {
		end -= int(b[end-1])
	}
	if end <= n {
		return false
	}
	return detect(b[n:end])
}

// vp8Keyframe: the payload descriptor (RFC 7741 §4.2) with S=1 and PID=0
// starts a frame; the frame is a key frame when the P bit of its first
// byte is 0 (RFC 6386 §9.1).
func vp8Keyframe(p []byte) bool {
	if len(p) == 0 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte I|L|T|K
		if len(p) <= i {
			return false
		}
		x := p[i]
		i++
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID|Y|KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// vp9Keyframe: the payload descriptor's P bit (inter-picture predicted)
// is 0 and B (start of a frame) is 1 (RFC 9628 §4.2); with layer indices
// (L), only spatial layer 0 counts.
func vp9Keyframe(p []byte) bool {
	if len(p) == 0 || p[0]&0x40 != 0 || p[0]&0x08 == 0 {
		return false
	}
	if p[0]&0x20 == 0 { // no layer indices
		return true
	}
	i := 1
	if p[0]&0x80 != 0 { // I: picture id
		if len(p) <= i {
			return false
		}
		if p[i]&0x80 != 0 {
			i++
		}
		i++
	}
	return len(p) > i && p[i]>>1&0x07 == 0 // SID
}

// h264Keyframe: an IDR slice (NAL type 5) or a sequence parameter set (7),
// alone, in a STAP-A (24) or at the start of an FU-A (28) (RFC 6184 §5).
func h264Keyframe(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24:
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if nt := p[i+2] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += 2 + size
		}
	case 28:
		return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}
