package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// faultTrunk is a carrier's SIP trunk calling the bank over UDP from
// loopback (the configuration's trunk "loopback", which trusts
// P-Asserted-Identity), built from sipgo: it places calls and holds
// them, or reads the final answer of an INVITE.
type faultTrunk struct {
	ua     *sipgo.UserAgent
	client *sipgo.Client
	dialog *sipgo.DialogUA
	port   int
	rtp    *net.UDPConn
}

func newFaultTrunk(t testing.TB) *faultTrunk {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("e2e-trunk"), sipgo.WithUserAgentHostname("127.0.0.1"),
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
	p := &faultTrunk{ua: ua, rtp: rtp, port: conn.LocalAddr().(*net.UDPAddr).Port}
	if p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(p.port)); err != nil {
		t.Fatal(err)
	}
	p.dialog = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "trunk", Host: "127.0.0.1", Port: p.port}}}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
		_ = ua.Close()
		_ = rtp.Close()
	})
	return p
}

// invite is an INVITE to the bank's number at the gateway addr
// ("127.0.0.1:port") from the E.164 number from, with P-Asserted-Identity
// and an SDP offer of PCMU with telephone-event.
func (p *faultTrunk) invite(addr, from string) *sip.Request {
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: bankNumber, Host: host, Port: n})
	fromHdr := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}, Params: sip.NewParams()}
	fromHdr.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(fromHdr)
	req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+from+"@127.0.0.1>"))
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "trunk", Host: "127.0.0.1", Port: p.port}})
	sdp := strings.Join([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP 0 101", p.rtp.LocalAddr().(*net.UDPAddr).Port),
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv"}, "\r\n") + "\r\n"
	req.SetBody([]byte(sdp))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	return req
}

// call places a call to the gateway at addr and holds it once answered
// (200 OK, ACK); the caller ends it with Close.
func (p *faultTrunk) call(ctx context.Context, addr, from string) (*sipgo.DialogClientSession, error) {
	d, err := p.dialog.WriteInvite(ctx, p.invite(addr, from))
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		_ = d.Close()
		return nil, err
	}
	if err := d.Ack(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// finalAnswer sends an INVITE to the gateway at addr and returns its
// final response (the transaction layer acknowledges a refusal).
func (p *faultTrunk) finalAnswer(ctx context.Context, addr, from string) (*sip.Response, error) {
	return p.client.Do(ctx, p.invite(addr, from))
}
