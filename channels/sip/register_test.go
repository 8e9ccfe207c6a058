package sip

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// register sends a REGISTER for user from peer p to s with the contacts
// given (each "uri;params" or "*") and the Expires header when expires is
// not empty, answering a digest challenge with password when it is not
// empty. It returns the final response.
func (p *peer) register(t *testing.T, s *Server, user, password, expires string, contacts ...string) *sip.Response {
	t.Helper()
	gw := s.Addr("udp").(*net.UDPAddr)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: gw.Port})
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(to)
	req.AppendHeader(from)
	for _, c := range contacts {
		req.AppendHeader(sip.NewHeader("Contact", c))
	}
	if expires != "" {
		req.AppendHeader(sip.NewHeader("Expires", expires))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == 401 && password != "" {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
		if err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func contactsOf(res *sip.Response) []string {
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		out = append(out, h.Value())
	}
	return out
}

func TestRegister(t *testing.T) {
	s := startServer(t, testConfig(), newFakeSink(), nil)
	phone := newPeer(t, "rm-pb-01")
	a := "<sip:rm-pb-01@127.0.0.1:5062>"
	b := "<sip:rm-pb-01@127.0.0.1:5064;transport=udp>"
	steps := []struct {
		name     string
		user     string
		password string
		expires  string
		contacts []string
		status   int
		want     []string // Contact values of the 200, in order
	}{
		{name: "no credentials challenged", user: "rm-pb-01", contacts: []string{a}, status: 401},
		{name: "wrong password", user: "rm-pb-01", password: "nope", contacts: []string{a}, status: 403},
		{name: "unknown user", user: "rm-zz", password: "secret-1", contacts: []string{a}, status: 403},
		{name: "register a with default expiry", user: "rm-pb-01", password: "secret-1", contacts: []string{a}, status: 200,
			want: []string{"<sip:rm-pb-01@127.0.0.1:5062>;expires=600"}},
		{name: "too brief", user: "rm-pb-01", password: "secret-1", expires: "10", contacts: []string{b}, status: 423},
		{name: "second contact capped to max", user: "rm-pb-01", password: "secret-1", contacts: []string{b + ";expires=99999"}, status: 200,
			want: []string{"<sip:rm-pb-01@127.0.0.1:5064;transport=udp>;expires=3600", "<sip:rm-pb-01@127.0.0.1:5062>;expires=600"}},
		{name: "query", user: "rm-pb-01", password: "secret-1", status: 200,
			want: []string{"<sip:rm-pb-01@127.0.0.1:5064;transport=udp>;expires=3600", "<sip:rm-pb-01@127.0.0.1:5062>;expires=600"}},
		{name: "unregister a", user: "rm-pb-01", password: "secret-1", contacts: []string{a + ";expires=0"}, status: 200,
			want: []string{"<sip:rm-pb-01@127.0.0.1:5064;transport=udp>;expires=3600"}},
		{name: "wildcard needs expires 0", user: "rm-pb-01", password: "secret-1", expires: "60", contacts: []string{"*"}, status: 400},
		{name: "unregister all", user: "rm-pb-01", password: "secret-1", expires: "0", contacts: []string{"*"}, status: 200},
	}
	for _, st := range steps {
		res := phone.register(t, s, st.user, st.password, st.expires, st.contacts...)
		if res.StatusCode != st.status {
			t.Fatalf("%s: %d %s, want %d", st.name, res.StatusCode, res.Reason, st.status)
		}
		switch st.status {
		case 401:
			if h := res.GetHeader("WWW-Authenticate"); h == nil || !strings.Contains(h.Value(), `realm="airbranch"`) || !strings.Contains(h.Value(), "qop") {
				t.Errorf("%s: challenge %v", st.name, h)
			}
		case 423:
			if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
				t.Errorf("%s: Min-Expires %v", st.name, h)
			}
		case 200:
			if got := strings.Join(contactsOf(res), " | "); got != strings.Join(st.want, " | ") {
				t.Errorf("%s: contacts\n got %s\nwant %s", st.name, got, strings.Join(st.want, " | "))
			}
		}
	}
}

func TestTrunkAccess(t *testing.T) {
	tests := []struct {
		name     string
		trunk    TrunkConfig
		drop     bool
		password string
		want     int // 0: no answer
	}{
		{name: "allowed source", trunk: TrunkConfig{Name: "t", Sources: []string{"127.0.0.1"}}, want: 200},
		{name: "unknown source forbidden", trunk: TrunkConfig{Name: "t", Sources: []string{"192.0.2.0/24"}}, want: 403},
		{name: "unknown source dropped", trunk: TrunkConfig{Name: "t", Sources: []string{"192.0.2.0/24"}}, drop: true, want: 0},
		{name: "credentials missing", trunk: TrunkConfig{Name: "t", Username: "carrier", Password: "pw"}, want: 401},
		{name: "credentials right", trunk: TrunkConfig{Name: "t", Username: "carrier", Password: "pw"}, password: "pw", want: 200},
		{name: "credentials wrong", trunk: TrunkConfig{Name: "t", Username: "carrier", Password: "pw"}, password: "bad", want: 401},
		{name: "source and credentials", trunk: TrunkConfig{Name: "t", Sources: []string{"127.0.0.0/8"}, Username: "carrier", Password: "pw"}, password: "pw", want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Trunks = []TrunkConfig{tt.trunk}
			cfg.DropUnknown = tt.drop
			s := startServer(t, cfg, newFakeSink(), nil)
			p := newPeer(t, "carrier")
			gw := s.Addr("udp").(*net.UDPAddr)
			req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: gw.Port})
			wait := 5 * time.Second
			if tt.want == 0 {
				wait = 1500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			res, err := p.client.Do(ctx, req)
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("dropped source answered %d", res.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode == 401 && tt.password != "" {
				res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "carrier", Password: tt.password})
				if err != nil {
					t.Fatal(err)
				}
			}
			if res.StatusCode != tt.want {
				t.Fatalf("OPTIONS answered %d %s, want %d", res.StatusCode, res.Reason, tt.want)
			}
		})
	}
}

// TestDroppedInviteGetsNoAnswer: with DropUnknown, an INVITE from an
// unknown source gets nothing back, not even 100 Trying, and creates no
// conversation.
func TestDroppedInviteGetsNoAnswer(t *testing.T) {
	cfg := testConfig()
	cfg.Trunks[0].Sources = []string{"192.0.2.0/24"}
	cfg.DropUnknown = true
	sink := newFakeSink()
	s := startServer(t, cfg, sink, nil)
	invite := "INVITE sip:+85221234567@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-drop\r\n" +
		"From: <sip:91234567@127.0.0.1>;tag=1\r\nTo: <sip:+85221234567@127.0.0.1>\r\nCall-ID: drop-1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:caller@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	buf := make([]byte, 4096)
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("dropped INVITE answered: %q", buf[:n])
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.incoming) != 0 {
		t.Error("dropped INVITE created a conversation")
	}
}
