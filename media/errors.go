package media

import "errors"

// ErrNoCommonCodec is returned by Negotiate when an offer has no audio
// stream with PCMU or PCMA over RTP/AVP (a SIP UAS then answers 488, RFC
// 3261 §21.4.26).
var ErrNoCommonCodec = errors.New("no common codec")

// ErrBadSDP is returned for an SDP body that cannot be read (RFC 4566 §5):
// no audio media line, a port or payload type that is not a number, no
// connection address.
var ErrBadSDP = errors.New("malformed sdp")

// ErrBadRTP is returned for a datagram too short or of the wrong version to
// be an RTP packet (RFC 3550 §5.1).
var ErrBadRTP = errors.New("malformed rtp packet")

// ErrNoPorts is returned when every port of the configured RTP range is in
// use.
var ErrNoPorts = errors.New("no free rtp port in range")

// ErrLegClosed is returned when writing to a leg whose socket is closed.
var ErrLegClosed = errors.New("media leg closed")

// ErrBadWAV is returned by ReadWAV for a file that is not a canonical
// 16-bit PCM WAV file (RIFF WAVE with one fmt and one data chunk).
var ErrBadWAV = errors.New("not a 16-bit pcm wav file")
