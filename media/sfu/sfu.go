package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// SFU owns the shared UDP socket and the pion API (codecs, interceptors,
// settings) that every Room's PeerConnections use.
type SFU struct {
	cfg  Config
	log  *slog.Logger
	conn *net.UDPConn
	mux  *ice.UDPMuxDefault
	api  *webrtc.API

	mu     sync.Mutex
	rooms  map[*Room]struct{}
	closed bool
}

// New opens the UDP socket at cfg.UDPAddr (after Defaults and Validate)
// and returns the SFU. Errors wrap ErrConfig, or the socket's error (e.g.
// the port is in use). Close releases it.
func New(cfg Config, log *slog.Logger) (*SFU, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	addr, _ := net.ResolveUDPAddr("udp4", cfg.UDPAddr)
	conn, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen %s: %w", cfg.UDPAddr, err)
	}
	lf := loggerFactory{log: log.With("component", "pion")}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: lf.NewLogger("ice")})

	var se webrtc.SettingEngine
	se.LoggerFactory = lf
	se.SetICEUDPMux(mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	local := conn.LocalAddr().(*net.UDPAddr)
	se.SetIncludeLoopbackCandidate(local.IP.IsLoopback())
	if cfg.PublicIP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: []string{cfg.PublicIP}, AsCandidateType: webrtc.ICECandidateTypeHost,
		}); err != nil {
			_ = mux.Close()
			return nil, fmt.Errorf("%w: public_ip: %w", ErrConfig, err)
		}
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		_ = mux.Close()
		return nil, fmt.Errorf("sfu: codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		_ = mux.Close()
		return nil, fmt.Errorf("sfu: interceptors: %w", err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	log.Info("sfu listening", "udp_addr", local.String(), "public_ip", cfg.PublicIP)
	return &SFU{cfg: cfg, log: log, conn: conn, mux: mux, api: api, rooms: map[*Room]struct{}{}}, nil
}

// LocalAddr is the UDP address all sessions share (the port to open in a
// firewall).
func (s *SFU) LocalAddr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// ICEServers returns the STUN/TURN servers to hand to clients.
func (s *SFU) ICEServers() []ICEServer { return s.cfg.ICEServers }

// Close closes every room (waiting for their goroutines), then the UDP
// socket. It is idempotent.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.Close()
	}
	return s.mux.Close()
}

// NewRoom returns an empty room; id is used in logs. ErrClosed after
// Close.
func (s *SFU) NewRoom(id string) (*Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	r := &Room{id: id, sfu: s, log: s.log.With("room_id", id), parts: map[string]*Participant{}, tracks: map[*published]struct{}{}}
	s.rooms[r] = struct{}{}
	return r, nil
}

func (s *SFU) forget(r *Room) {
	s.mu.Lock()
	delete(s.rooms, r)
	s.mu.Unlock()
}
