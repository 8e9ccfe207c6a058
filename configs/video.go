package configs

import (
	"time"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu"
)

// Environment variables of the video channel's secrets.
const (
	// EnvVideoTokenSecret is the HS256 key of video join tokens
	// (Secrets.VideoTokenSecret; at least 32 bytes).
	EnvVideoTokenSecret = "AIRBRANCH_VIDEO_TOKEN_SECRET"
	// EnvVideoTURNCredential is the credential handed to clients with
	// every video.ice_servers item that has a username
	// (Secrets.VideoTURNCredential).
	EnvVideoTURNCredential = "AIRBRANCH_VIDEO_TURN_CREDENTIAL"
)

// Recording consent rules (video.recording.consent).
const (
	// VideoConsentAllParties records only while every participant in the
	// room (observers aside) has consented in the room.
	VideoConsentAllParties = "all_parties"
	// VideoConsentNotRequired records every room (the bank records by
	// regulation and tells its clients so elsewhere).
	VideoConsentNotRequired = "not_required"
)

// VideoConfig configures the video channel (channels/video and its SFU,
// media/sfu): the /ws/video signalling WebSocket, the /video/ join page,
// invitations, and the one UDP port all media uses. Join tokens are
// signed with AIRBRANCH_VIDEO_TOKEN_SECRET. The embedded demo turns it
// on with a public development secret and a free UDP port.
type VideoConfig struct {
	// Enabled turns video on.
	Enabled bool `yaml:"enabled"`
	// UDPAddr is the one UDP host:port of every session's media (ICE UDP
	// mux): the port to open in the firewall.
	UDPAddr string `yaml:"udp_addr"`
	// PublicIP is announced in ICE candidates instead of the local
	// address (a server behind a 1:1 NAT); empty: the local addresses.
	PublicIP string `yaml:"public_ip"`
	// ICEServers are the STUN and TURN servers handed to clients.
	ICEServers []VideoICEServer `yaml:"ice_servers"`
	// MaxParticipants is a room's capacity, lobby included (2 to 50).
	MaxParticipants int `yaml:"max_participants"`
	// TokenTTL is how long a join token is valid.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// InvitationTTL is how long an invitation code may be exchanged,
	// counted from the session's start (from now for unscheduled ones).
	InvitationTTL time.Duration `yaml:"invitation_ttl"`
	// ReconnectGrace is how long a dropped participant keeps its place.
	ReconnectGrace time.Duration `yaml:"reconnect_grace"`
	// Recording records rooms' media to files.
	Recording VideoRecordingConfig `yaml:"recording"`
}

// VideoICEServer is a STUN or TURN server handed to clients; a TURN
// server's credential comes from AIRBRANCH_VIDEO_TURN_CREDENTIAL.
type VideoICEServer struct {
	URLs     []string `yaml:"urls"`
	Username string   `yaml:"username"`
}

// VideoRecordingConfig sets recording: audio to Ogg/Opus and video to
// IVF (VP8), one file per published track, under Dir.
type VideoRecordingConfig struct {
	// Enabled turns recording on.
	Enabled bool `yaml:"enabled"`
	// Consent is the rule: all_parties or not_required.
	Consent string `yaml:"consent"`
	// Dir is the folder of the files, relative to the config file's
	// folder.
	Dir string `yaml:"dir"`
}

// VideoEnabled reports whether video runs: video.enabled, or the
// embedded demo.
func (c *Config) VideoEnabled() bool { return c.Video.Enabled || c.Demo() }

// VideoSFU returns the SFU's configuration for c.Video, with the TURN
// credential from the environment. When the demo (not video.enabled)
// turns video on, the SFU takes a free UDP port.
func (c *Config) VideoSFU() sfu.Config {
	s := sfu.Config{UDPAddr: c.Video.UDPAddr, PublicIP: c.Video.PublicIP}
	if !c.Video.Enabled && c.Demo() {
		s.UDPAddr = ":0"
	}
	for _, i := range c.Video.ICEServers {
		srv := sfu.ICEServer{URLs: i.URLs, Username: i.Username}
		if i.Username != "" {
			srv.Credential = c.Secrets.VideoTURNCredential
		}
		s.ICEServers = append(s.ICEServers, srv)
	}
	return s
}

// VideoChannel returns the signalling server's configuration for c.Video.
func (c *Config) VideoChannel() video.Config {
	return video.Config{MaxParticipants: c.Video.MaxParticipants, ReconnectGrace: c.Video.ReconnectGrace}
}
