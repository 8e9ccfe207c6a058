package conversation

import (
	"fmt"
	"slices"
)

// Segment is the client group a customer belongs to; routing sends a
// conversation to the RM team of its segment.
type Segment string

// The client segments of the remote branch.
const (
	SegmentMass          Segment = "mass"
	SegmentMassAffluent  Segment = "mass_affluent"
	SegmentAffluent      Segment = "affluent"
	SegmentPrivate       Segment = "private"
	SegmentSmallBusiness Segment = "small_business"
	SegmentRetailLending Segment = "retail_lending"
)

// Segments lists every segment, from mass to retail lending.
var Segments = []Segment{SegmentMass, SegmentMassAffluent, SegmentAffluent, SegmentPrivate, SegmentSmallBusiness, SegmentRetailLending}

// Valid reports whether s is one of Segments.
func (s Segment) Valid() bool { return slices.Contains(Segments, s) }

// Channel is the medium of a conversation.
type Channel string

// The channels Airbranch normalises.
const (
	ChannelVoice   Channel = "voice"
	ChannelVideo   Channel = "video"
	ChannelSMS     Channel = "sms"
	ChannelWeChat  Channel = "wechat"
	ChannelWebChat Channel = "webchat"
)

// Channels lists every channel.
var Channels = []Channel{ChannelVoice, ChannelVideo, ChannelSMS, ChannelWeChat, ChannelWebChat}

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// Messaging reports whether c carries messages (SMS, WeChat, web chat) rather
// than a live media session (voice, video).
func (c Channel) Messaging() bool {
	return c == ChannelSMS || c == ChannelWeChat || c == ChannelWebChat
}

// Verification is how strongly a customer's identity was verified on the
// current contact.
type Verification string

// Verification levels, weakest first.
const (
	// VerificationNone: nothing checked; every prospect starts here.
	VerificationNone Verification = "none"
	// VerificationBasic: the address is known (caller ID, WeChat openid bound
	// to the customer) but no secret was checked.
	VerificationBasic Verification = "basic"
	// VerificationStrong: authenticated by the bank (app login, OTP, voice PIN).
	VerificationStrong Verification = "strong"
)

// Verifications lists every verification level, weakest first.
var Verifications = []Verification{VerificationNone, VerificationBasic, VerificationStrong}

// Valid reports whether v is one of Verifications.
func (v Verification) Valid() bool { return slices.Contains(Verifications, v) }

// Rank orders verification levels: none 0, basic 1, strong 2, unknown -1.
func (v Verification) Rank() int { return slices.Index(Verifications, v) }

// ParseSegment returns s as a Segment, or an error wrapping ErrInvalid that
// lists the allowed values.
func ParseSegment(s string) (Segment, error) {
	if Segment(s).Valid() {
		return Segment(s), nil
	}
	return "", fmt.Errorf("segment %q: %w (allowed: %v)", s, ErrInvalid, Segments)
}

// ParseChannel returns s as a Channel, or an error wrapping ErrInvalid that
// lists the allowed values.
func ParseChannel(s string) (Channel, error) {
	if Channel(s).Valid() {
		return Channel(s), nil
	}
	return "", fmt.Errorf("channel %q: %w (allowed: %v)", s, ErrInvalid, Channels)
}
