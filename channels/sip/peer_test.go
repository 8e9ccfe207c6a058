package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/media"
)

// peer is a SIP endpoint on loopback built from sipgo: a caller's trunk
// or an RM's phone. It answers BYE with 200 and reports it, and answers
// INVITE with answer() when set.
type peer struct {
	t      *testing.T
	user   string
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dialog *sipgo.DialogUA
	port   int
	rtp    *net.UDPConn
	byes   chan string
	// notifies receives the body of each NOTIFY the peer gets (answered 200).
	notifies chan string
	// rung receives the Call-ID of each INVITE the peer rang for (answer
	// 180) once its transaction ended: by CANCEL, or by timeout.
	rung chan string
	// answer, if set, answers an INVITE: it gets the offer and returns
	// the status and SDP body.
	answer func(offer []byte) (int, []byte)

	mu      sync.Mutex
	invites []*sip.Request
	uas     []*sipgo.DialogServerSession
}

func newPeer(t *testing.T, user string) *peer {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, user: user, ua: ua, srv: srv, rtp: rtp, byes: make(chan string, 8), rung: make(chan string, 8), notifies: make(chan string, 8),
		port: conn.LocalAddr().(*net.UDPAddr).Port}
	p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(p.port))
	if err != nil {
		t.Fatal(err)
	}
	p.dialog = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: p.port}}}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.byes <- req.CallID().Value()
	})
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.notifies <- string(req.Body())
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		uas := append([]*sipgo.DialogServerSession(nil), p.uas...)
		p.mu.Unlock()
		for _, d := range uas {
			if d.InviteRequest.CallID().Value() == req.CallID().Value() {
				_ = d.ReadAck(req, tx)
			}
		}
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		p.invites = append(p.invites, req)
		answer := p.answer
		p.mu.Unlock()
		if answer == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
			return
		}
		d, err := p.dialog.ReadInvite(req, tx)
		if err != nil {
			return
		}
		code, body := answer(req.Body())
		if code == 180 { // ring until cancelled
			_ = d.Respond(180, "Ringing", nil)
			<-tx.Done()
			p.rung <- req.CallID().Value()
			return
		}
		if code != 200 {
			_ = d.Respond(code, "Refused", nil)
			return
		}
		p.mu.Lock()
		p.uas = append(p.uas, d)
		p.mu.Unlock()
		_ = d.RespondSDP(body)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		cancel()
		_ = conn.Close()
		<-done
		_ = ua.Close()
		_ = rtp.Close()
	})
	_ = ctx
	return p
}

func (p *peer) rtpAddr() netip.AddrPort { return p.rtp.LocalAddr().(*net.UDPAddr).AddrPort() }

// sdp returns an offer or answer from the peer's RTP socket with the given
// m= formats and rtpmap lines.
func (p *peer) sdp(formats string, extra ...string) []byte {
	lines := []string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s", p.rtpAddr().Port(), formats)}
	lines = append(lines, extra...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// invite sends an INVITE from caller number from to the gateway s with
// body (nil: late offer) and extra headers; it returns the dialog after
// sending, without waiting for the answer.
func (p *peer) invite(ctx context.Context, s *Server, from string, body []byte, hdrs ...sip.Header) *sipgo.DialogClientSession {
	p.t.Helper()
	gw := s.Addr("udp").(*net.UDPAddr)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "+85221234567", Host: "127.0.0.1", Port: gw.Port})
	fromHdr := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}, Params: sip.NewParams()}
	fromHdr.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(fromHdr)
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	d, err := p.dialog.WriteInvite(ctx, req)
	if err != nil {
		p.t.Fatalf("invite: %v", err)
	}
	return d
}

// readRTP reads one RTP packet from the peer's RTP socket within 10 s.
func (p *peer) readRTP() (media.RTPHeader, []byte, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2048)
	_ = p.rtp.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := p.rtp.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("%s: no rtp: %v", p.user, err)
	}
	h, err := media.ParseRTPHeader(buf[:n])
	if err != nil {
		p.t.Fatalf("%s: bad rtp: %v", p.user, err)
	}
	return h, buf[h.PayloadOffset:h.PayloadEnd], from
}

// sendRTP sends one packet from the peer's RTP socket.
func (p *peer) sendRTP(to netip.AddrPort, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) {
	p.t.Helper()
	b := make([]byte, media.RTPHeaderLen+len(payload))
	media.PutRTPHeader(b, marker, pt, seq, ts, 0xabcdef)
	copy(b[media.RTPHeaderLen:], payload)
	if _, err := p.rtp.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// waitBye waits up to 15 s for a BYE to the peer.
func (p *peer) waitBye() string {
	p.t.Helper()
	select {
	case id := <-p.byes:
		return id
	case <-time.After(15 * time.Second):
		p.t.Fatalf("%s: no BYE", p.user)
		return ""
	}
}

// answerNegotiation reads the gateway's SDP in a response body.
func answerNegotiation(t *testing.T, body []byte) media.Negotiation {
	t.Helper()
	sd, err := media.ParseSDP(body)
	if err != nil {
		t.Fatalf("gateway sdp: %v\n%s", err, body)
	}
	n, err := media.Negotiate(sd, media.CodecNone)
	if err != nil {
		t.Fatalf("gateway sdp: %v\n%s", err, body)
	}
	return n
}
