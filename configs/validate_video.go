package configs

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Bounds of the video section that Validate enforces.
const (
	MinVideoTokenTTL      = time.Minute         // video.token_ttl lower bound
	MaxVideoTokenTTL      = 24 * time.Hour      // video.token_ttl upper bound
	MaxVideoInvitationTTL = 30 * 24 * time.Hour // video.invitation_ttl upper bound
	MaxVideoReconnect     = 10 * time.Minute    // video.reconnect_grace upper bound
	MinVideoSecretBytes   = 32                  // AIRBRANCH_VIDEO_TOKEN_SECRET length lower bound
)

// validateVideo checks the video section when video is on: the SFU's
// address, public IP and ICE servers, the room size, the durations, the
// recording rule and folder, and the token secret (naming its variable).
func (c *Config) validateVideo(v *collector) {
	if !c.VideoEnabled() {
		return
	}
	vc := c.Video
	if err := checkHostPort(vc.UDPAddr, false); err != nil {
		v.invalid("video.udp_addr", "%q: %v (allowed: host:port such as \":7882\", the one UDP port of all video media)", vc.UDPAddr, err)
	}
	if vc.PublicIP != "" {
		if ip := net.ParseIP(vc.PublicIP); ip == nil || ip.To4() == nil {
			v.invalid("video.public_ip", "%q is not an IPv4 address (allowed: the public IPv4 address of a 1:1 NAT, or empty)", vc.PublicIP)
		}
	}
	for i, srv := range vc.ICEServers {
		field := fmt.Sprintf("video.ice_servers[%d]", i)
		if len(srv.URLs) == 0 {
			v.invalid(field+".urls", "no URL (allowed: stun:, stuns:, turn: or turns: URLs, RFC 7064, RFC 7065)")
		}
		for _, u := range srv.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				v.invalid(field+".urls", "%q is not a STUN or TURN URL (allowed: stun:, stuns:, turn: or turns: URLs, RFC 7064, RFC 7065)", u)
			}
		}
		if srv.Username != "" && c.Secrets.VideoTURNCredential == "" {
			v.invalid(field+".username", "a TURN username needs %s, which is not set (allowed: set it, or no username for STUN)", EnvVideoTURNCredential)
		}
	}
	if vc.MaxParticipants < 2 || vc.MaxParticipants > 50 {
		v.invalid("video.max_participants", "%d (allowed: 2 to 50, lobby included)", vc.MaxParticipants)
	}
	checkDurationRange(v, "video.token_ttl", vc.TokenTTL, MinVideoTokenTTL, MaxVideoTokenTTL)
	checkDurationRange(v, "video.invitation_ttl", vc.InvitationTTL, time.Minute, MaxVideoInvitationTTL)
	checkDurationRange(v, "video.reconnect_grace", vc.ReconnectGrace, 0, MaxVideoReconnect)
	r := vc.Recording
	switch r.Consent {
	case VideoConsentAllParties, VideoConsentNotRequired:
	default:
		v.invalid("video.recording.consent", "unknown rule %q (allowed: %s, %s)", r.Consent, VideoConsentAllParties, VideoConsentNotRequired)
	}
	if r.Enabled {
		if r.Dir == "" {
			v.invalid("video.recording.dir", "recording is on but no folder is set (allowed: a writable folder, relative to the config file's folder)")
		} else if st, err := os.Stat(r.Dir); err == nil && !st.IsDir() {
			v.invalid("video.recording.dir", "%s is not a folder (allowed: a writable folder; it is created when missing)", r.Dir)
		}
	}
	if len(c.Secrets.VideoTokenSecret) < MinVideoSecretBytes && !(c.Demo() && !vc.Enabled) {
		if c.Secrets.VideoTokenSecret == "" {
			v.invalid("video.enabled", "video is on but %s is not set (allowed: a secret of at least %d bytes)", EnvVideoTokenSecret, MinVideoSecretBytes)
		} else {
			v.invalid("secrets.video_token_secret", "%s is %d bytes (allowed: at least %d)", EnvVideoTokenSecret, len(c.Secrets.VideoTokenSecret), MinVideoSecretBytes)
		}
	}
}
