package sfu

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ICEServer is a STUN or TURN server handed to clients (W3C WebRTC 1.0
// RTCIceServer): URLs such as "stun:stun.example:3478" or
// "turn:turn.example:3478?transport=udp" (RFC 7064, RFC 7065), with a
// username and credential for TURN.
type ICEServer struct {
	URLs       []string `json:"urls" yaml:"urls"`
	Username   string   `json:"username,omitempty" yaml:"username"`
	Credential string   `json:"credential,omitempty" yaml:"credential"`
}

// Config configures the SFU. The zero value of a field means its default
// (see Defaults).
type Config struct {
	// UDPAddr is the one UDP address (host:port) every PeerConnection's
	// ICE uses (ICE UDP mux). Default ":7882". Give an IPv4 address, or
	// none for all IPv4 interfaces; port 0 picks a free one (tests).
	UDPAddr string `yaml:"udp_addr"`
	// PublicIP is announced in host candidates instead of the local
	// address, for a server behind a 1:1 NAT (e.g. a cloud instance's
	// public address). Empty: the local addresses are announced.
	PublicIP string `yaml:"public_ip"`
	// ICEServers are handed to clients (the server itself gathers only
	// host candidates on UDPAddr).
	ICEServers []ICEServer `yaml:"ice_servers"`
	// KeyframeInterval is the least time between two key-frame requests
	// (PLI) sent to one publisher's track. Default 500 ms.
	KeyframeInterval time.Duration `yaml:"keyframe_interval"`
	// SubscriberQueue is how many RTP packets may wait for one
	// subscriber's sender; beyond it that subscriber's packets are
	// dropped. Default 256.
	SubscriberQueue int `yaml:"subscriber_queue"`
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.UDPAddr == "" {
		c.UDPAddr = ":7882"
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = 500 * time.Millisecond
	}
	if c.SubscriberQueue == 0 {
		c.SubscriberQueue = 256
	}
	return c
}

// Validate reports every problem of c (after Defaults) at once, each
// wrapping ErrConfig and naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, a...)))
	}
	if _, err := net.ResolveUDPAddr("udp4", c.UDPAddr); err != nil {
		bad("udp_addr", "%q is not a host:port (%v)", c.UDPAddr, err)
	}
	if c.PublicIP != "" {
		if ip := net.ParseIP(c.PublicIP); ip == nil || ip.To4() == nil {
			bad("public_ip", "%q is not an IPv4 address", c.PublicIP)
		}
	}
	for i, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			bad(fmt.Sprintf("ice_servers[%d].urls", i), "at least one URL")
		}
		for _, u := range s.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") &&
				!strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				bad(fmt.Sprintf("ice_servers[%d].urls", i), "%q: a stun:, stuns:, turn: or turns: URL (RFC 7064, RFC 7065)", u)
			}
		}
	}
	if c.KeyframeInterval < 0 {
		bad("keyframe_interval", "a duration >= 0")
	}
	if c.SubscriberQueue < 0 {
		bad("subscriber_queue", "a packet count >= 0")
	}
	return errors.Join(errs...)
}
