package media

import "github.com/zaf/g711"

// Static RTP payload types of the G.711 codecs (RFC 3551 §6, table 4).
const (
	PayloadPCMU uint8 = 0
	PayloadPCMA uint8 = 8
)

// DefaultEventPayloadType is the dynamic payload type the gateway offers
// for telephone-event (RFC 4733 §7.1.1) when it makes the offer.
const DefaultEventPayloadType uint8 = 101

// SampleRate is the G.711 and telephone-event clock rate in Hz.
const SampleRate = 8000

// FrameMillis is the packetisation time of every stream the gateway sends,
// in milliseconds (a=ptime:20, RFC 4566 §6).
const FrameMillis = 20

// FrameSamples is the number of samples (and, for G.711, bytes) in one
// 20 ms frame at 8 kHz.
const FrameSamples = SampleRate * FrameMillis / 1000

// Codec is a negotiated audio codec: PCMU or PCMA.
type Codec uint8

// Codecs.
const (
	CodecNone Codec = iota
	CodecPCMU
	CodecPCMA
)

// PayloadType returns the static payload type of c (0 or 8).
func (c Codec) PayloadType() uint8 {
	if c == CodecPCMA {
		return PayloadPCMA
	}
	return PayloadPCMU
}

// String returns the SDP encoding name, "PCMU" or "PCMA".
func (c Codec) String() string {
	switch c {
	case CodecPCMU:
		return "PCMU"
	case CodecPCMA:
		return "PCMA"
	}
	return "none"
}

// silence byte of each codec: the encoding of linear 0.
func (c Codec) silence() byte {
	if c == CodecPCMA {
		return 0xd5
	}
	return 0xff
}

// transcode tables: 256-entry lookups built once from g711's frame
// converters so the per-packet path is a table lookup per byte.
var (
	ulawToAlaw [256]byte
	alawToUlaw [256]byte
)

func init() {
	for i := range 256 {
		ulawToAlaw[i] = g711.Ulaw2AlawFrame(uint8(i))
		alawToUlaw[i] = g711.Alaw2UlawFrame(uint8(i))
	}
}

// transcodeTable returns the byte table turning from-encoded samples into
// to-encoded ones, or nil when no transcoding is needed.
func transcodeTable(from, to Codec) *[256]byte {
	switch {
	case from == CodecPCMU && to == CodecPCMA:
		return &ulawToAlaw
	case from == CodecPCMA && to == CodecPCMU:
		return &alawToUlaw
	}
	return nil
}

// Transcode rewrites the G.711 samples in p from codec from to codec to, in
// place (ITU-T G.711 Tables 1a/1b and 2a/2b via github.com/zaf/g711). Equal
// codecs leave p unchanged. It does not allocate.
func Transcode(p []byte, from, to Codec) {
	if t := transcodeTable(from, to); t != nil {
		for i, b := range p {
			p[i] = t[b]
		}
	}
}
