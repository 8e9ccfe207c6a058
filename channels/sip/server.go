package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// allowHeader lists the methods the gateway handles (RFC 3261 §20.5).
const allowHeader = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, UPDATE, REFER"

// Server is the voice channel: SIP listeners, calls in queue, RM phone
// registrations and bridges. Create it with New, then call Run once.
type Server struct {
	cfg  Config
	log  *slog.Logger
	sink CallSink
	reg  Registrar
	now  func() time.Time

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dialog *sipgo.DialogUA
	auth   *digestAuth
	ports  *media.PortRange

	mediaIP, publicMediaIP netip.Addr
	rmByUser               map[string]RMPhoneConfig

	udp      net.PacketConn
	tcp, tls net.Listener
	// replays answers retries of refused INVITEs (replay.go).
	replays *replayCache

	mu      sync.Mutex
	runCtx  context.Context
	calls   map[string]*call // by SIP Call-ID of either leg
	byConv  map[conversation.ConversationID]*call
	wg      sync.WaitGroup
	stopped bool
	// draining refuses new calls (Drain); live ones go on.
	draining bool
}

// New checks cfg (after WithDefaults) and binds the SIP listeners, so a
// port in use fails here. sink receives calls; reg stores RM phone
// registrations (NewMemoryRegistrar for one instance, NewRedisRegistrar for
// several); log must not be nil. Run must then be called exactly once: it
// serves and closes the listeners.
func New(cfg Config, sink CallSink, reg Registrar, log *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil || reg == nil || log == nil {
		return nil, fmt.Errorf("sip: %w: sink, registrar and logger are required", ErrConfig)
	}
	s := &Server{
		cfg: cfg, log: log.With("channel", "voice"), sink: sink, reg: reg, now: time.Now,
		ports:    &media.PortRange{Min: cfg.RTPPortMin, Max: cfg.RTPPortMax},
		rmByUser: map[string]RMPhoneConfig{},
		calls:    map[string]*call{},
		byConv:   map[conversation.ConversationID]*call{},
	}
	s.replays = newReplayCache(func() time.Time { return s.now() })
	s.mediaIP = netip.MustParseAddr(cfg.MediaIP)
	s.publicMediaIP = netip.MustParseAddr(cfg.PublicMediaIP)
	s.auth = newDigestAuth(cfg.Realm, cfg.NonceSecret, func() time.Time { return s.now() })
	for _, p := range cfg.RMPhones {
		s.rmByUser[p.Username] = p
	}
	if cfg.RecordingDir != "" {
		if err := os.MkdirAll(cfg.RecordingDir, 0o700); err != nil {
			return nil, fmt.Errorf("sip: recording folder: %w", err)
		}
	}
	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}
	sipLog := slog.New(redactHandler{log.Handler()}).With("component", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("airbranch"),
		sipgo.WithUserAgentHostname(cfg.PublicHost),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog), sip.WithTransportLayerReadFilter(forceRport)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
	)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	s.ua = ua
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog)); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(cfg.PublicHost), sipgo.WithClientLogger(sipLog)); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	host, port := s.contactHostPort()
	s.dialog = &sipgo.DialogUA{Client: s.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "airbranch", Host: host, Port: port}}}
	s.srv.OnInvite(s.guard(s.handleInvite))
	s.srv.OnAck(s.handleAck)
	s.srv.OnCancel(s.guard(s.handleCancel))
	s.srv.OnBye(s.guard(s.handleBye))
	s.srv.OnOptions(s.guard(s.handleOptions))
	s.srv.OnInfo(s.guard(s.handleInfo))
	s.srv.OnRegister(s.guard(s.handleRegister))
	s.srv.OnUpdate(s.guard(s.handleUpdate))
	s.srv.OnRefer(s.guard(s.handleRefer))
	s.srv.OnNoRoute(s.guard(func(req *sip.Request, tx sip.ServerTransaction) {
		s.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", allowHeader))
	}))
	return s, nil
}

func (s *Server) listen() error {
	var err error
	if a := s.cfg.UDPAddr; a != "" {
		if s.udp, err = net.ListenPacket("udp", a); err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", a, err)
		}
	}
	if a := s.cfg.TCPAddr; a != "" {
		if s.tcp, err = net.Listen("tcp", a); err != nil {
			return fmt.Errorf("sip: listen tcp %s: %w", a, err)
		}
	}
	if a := s.cfg.TLSAddr; a != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("sip: tls certificate: %w", err)
		}
		if s.tls, err = tls.Listen("tcp", a, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", a, err)
		}
	}
	return nil
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
	if s.tls != nil {
		_ = s.tls.Close()
	}
}

// Addr returns the bound address of the "udp", "tcp" or "tls" listener,
// nil when it is not configured.
func (s *Server) Addr(network string) net.Addr {
	switch network {
	case "udp":
		if s.udp != nil {
			return s.udp.LocalAddr()
		}
	case "tcp":
		if s.tcp != nil {
			return s.tcp.Addr()
		}
	case "tls":
		if s.tls != nil {
			return s.tls.Addr()
		}
	}
	return nil
}

func (s *Server) contactHostPort() (string, int) {
	for _, n := range []string{"udp", "tcp", "tls"} {
		if a := s.Addr(n); a != nil {
			_, p, _ := net.SplitHostPort(a.String())
			port, _ := strconv.Atoi(p)
			return s.cfg.PublicHost, port
		}
	}
	return s.cfg.PublicHost, 5060
}

// Run serves SIP on the bound listeners until ctx ends, then hangs up every
// live call (BYE, reported as EndFailed), waits for the calls' goroutines
// and returns nil; it returns the first listener error otherwise.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	serve := func(name string, f func() error) {
		wg.Go(func() {
			if err := f(); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				errs <- fmt.Errorf("sip: serve %s: %w", name, err)
				cancel()
			}
		})
	}
	if s.udp != nil {
		serve("udp", func() error { return s.srv.ServeUDP(s.udp) })
	}
	if s.tcp != nil {
		serve("tcp", func() error { return s.srv.ServeTCP(s.tcp) })
	}
	if s.tls != nil {
		serve("tls", func() error { return s.srv.ServeTLS(s.tls) })
	}
	s.log.Info("sip listening", "udp", addrString(s.Addr("udp")), "tcp", addrString(s.Addr("tcp")), "tls", addrString(s.Addr("tls")))
	<-ctx.Done()

	s.mu.Lock()
	s.stopped = true
	live := make([]*call, 0, len(s.byConv))
	for _, c := range s.byConv {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		c.hangup(EndFailed)
	}
	s.wg.Wait()
	s.closeListeners()
	_ = s.ua.Close()
	wg.Wait()
	close(errs)
	return <-errs
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// guard answers requests that fail validateRequest and recovers a panic in
// a handler (answering 500), so no request crashes the process.
func (s *Server) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("sip handler panic", "method", string(req.Method), "panic", fmt.Sprint(r))
				s.respond(req, tx, 500, "Server Internal Error")
			}
		}()
		if s.replay(req, tx) {
			return
		}
		if code, reason := validateRequest(req); code != 0 {
			var hdrs []sip.Header
			if code == 420 {
				hdrs = append(hdrs, sip.NewHeader("Unsupported", unsupportedRequire(req)))
			}
			s.log.Debug("sip request refused", "method", string(req.Method), "status", code, "reason", reason)
			s.respond(req, tx, code, reason, hdrs...)
			return
		}
		h(req, tx)
	}
}

// respond answers req with a response without body.
func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	s.replays.remember(req, res)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "status", code, "error", err)
	}
}

// admit applies the trunk allow-list and credentials to an out-of-dialog
// request. It answers (403, 401) or drops the request itself and returns nil
// when the request may not go on.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) *TrunkConfig {
	t := s.trunkFor(sourceAddr(req.Source()))
	if t == nil {
		s.log.Info("sip request from unknown source", "method", string(req.Method), "source_ip", sourceAddr(req.Source()).String(), "dropped", s.cfg.DropUnknown)
		if s.cfg.DropUnknown {
			tx.Terminate()
			return nil
		}
		s.respond(req, tx, 403, "Forbidden")
		return nil
	}
	if t.Username == "" {
		return t
	}
	hdr := ""
	if h := req.GetHeader("Authorization"); h != nil {
		hdr = h.Value()
	}
	res, _ := s.auth.check(hdr, string(req.Method), func(user string) (string, bool) {
		return t.Password, user == t.Username
	})
	if res == authOK {
		return t
	}
	s.respond(req, tx, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", s.auth.challenge(res == authStale)))
	return nil
}

func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.admit(req, tx) == nil {
		return
	}
	if s.isDraining() {
		s.respond(req, tx, 503, "Service Unavailable", s.retryAfter())
		return
	}
	s.respond(req, tx, 200, "OK", sip.NewHeader("Allow", allowHeader), sip.NewHeader("Accept", "application/sdp"))
}

// Drain makes the server refuse new calls while its live calls go on: an
// INVITE, and an OPTIONS keep-alive from a trunk, get 503 Service
// Unavailable with Retry-After (RFC 3261 §21.5.4), so trunks and SBCs send
// new calls to another instance. REGISTER, BYE, CANCEL, INFO and Bridge
// work as before. It cannot be undone; Run still ends the live calls when
// its context ends.
func (s *Server) Drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// callByID returns the live call with SIP Call-ID id.
func (s *Server) callByID(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *Server) sinkCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}
