package video

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the video channel. Zero fields take their defaults
// (Defaults).
type Config struct {
	// MaxParticipants is a room's default capacity, counting those in the
	// lobby; CreateRoom may set another per room. Default 6.
	MaxParticipants int `yaml:"max_participants"`
	// PingInterval is how often the server pings a session (RFC 6455
	// §5.5.2); one silent for three intervals is taken for gone.
	// Default 10 s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// MaxFrameBytes is the largest frame a client may send; a larger one
	// closes the connection with 1009 (RFC 6455 §7.4.1). Default 64 KiB
	// (an SDP with many m-lines is a few KiB).
	MaxFrameBytes int64 `yaml:"max_frame_bytes"`
	// SendQueue is how many frames may wait for a slow client before its
	// session is closed with 4008. Default 256.
	SendQueue int `yaml:"send_queue"`
	// ReconnectGrace is how long a participant whose WebSocket dropped
	// keeps its place (and its PeerConnection) for a reconnect with
	// resume. Default 30 s.
	ReconnectGrace time.Duration `yaml:"reconnect_grace"`
	// MaxChatBytes bounds one chat message's text (UTF-8 bytes). Default
	// 4096.
	MaxChatBytes int `yaml:"max_chat_bytes"`
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.MaxParticipants == 0 {
		c.MaxParticipants = 6
	}
	if c.PingInterval == 0 {
		c.PingInterval = 10 * time.Second
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.SendQueue == 0 {
		c.SendQueue = 256
	}
	if c.ReconnectGrace == 0 {
		c.ReconnectGrace = 30 * time.Second
	}
	if c.MaxChatBytes == 0 {
		c.MaxChatBytes = 4096
	}
	return c
}

// Validate reports every problem of c (after Defaults), each wrapping
// ErrConfig and naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, field, msg)) }
	if c.MaxParticipants < 2 || c.MaxParticipants > 50 {
		bad("max_participants", "2 to 50")
	}
	if c.PingInterval < time.Second {
		bad("ping_interval", "at least 1s")
	}
	if c.MaxFrameBytes < 4<<10 {
		bad("max_frame_bytes", "at least 4096")
	}
	if c.SendQueue < 1 {
		bad("send_queue", "at least 1")
	}
	if c.ReconnectGrace < 0 {
		bad("reconnect_grace", "a duration >= 0")
	}
	if c.MaxChatBytes < 1 || int64(c.MaxChatBytes) > c.MaxFrameBytes {
		bad("max_chat_bytes", "1 to max_frame_bytes")
	}
	return errors.Join(errs...)
}
