package sip

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(*Config)
		fields []string // fields named in the error; none means valid
	}{
		{name: "test config is valid", edit: func(*Config) {}},
		{name: "no listener", edit: func(c *Config) { c.UDPAddr, c.TCPAddr = "", "" }, fields: []string{"sip.udp_addr"}},
		{name: "everything wrong at once", edit: func(c *Config) {
			c.TLSAddr = "127.0.0.1:0"
			c.MediaIP = "x"
			c.RTPPortMin = 20000
			c.DefaultRegion = "XX"
			c.ChannelAccount = "2123"
			c.Trunks = []TrunkConfig{{Sources: []string{"300.1.1.1"}}, {Name: "b", Username: "u"}}
			c.RMPhones = append(c.RMPhones, RMPhoneConfig{RM: "rm-x", Username: "rm-pb-01", Password: "p"})
			c.RegisterMinExpires = 2 * time.Hour
			c.DefaultLanguage = "fr"
		}, fields: []string{"sip.tls_cert_file", "sip.media_ip", "sip.rtp_port_min", "sip.default_region", "sip.channel_account",
			"sip.trunks[0].name", "sip.trunks[0].sources", "sip.trunks[1].password", "sip.rm_phones[2].username",
			"sip.register_min_expires", "sip.default_language"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.edit(&c)
			c = c.WithDefaults()
			err := c.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err %v, want ErrConfig", err)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f+":") {
					t.Errorf("error does not name %s:\n%v", f, err)
				}
			}
		})
	}
}

// TestConfigProblems: Problems names the same fields as Validate, without
// the "sip." prefix, and leaves the config it checks as it was.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.Trunks = append(c.Trunks, TrunkConfig{Name: "bad", Sources: []string{"nope"}})
	c.DefaultLanguage = "fr"
	ps := c.Problems()
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	if strings.Join(fields, ",") != "trunks[1].sources,default_language" {
		t.Errorf("problems %+v", ps)
	}
	if c.Trunks[0].prefixes != nil || c.Realm != "" {
		t.Errorf("Problems changed the config it checked: %+v", c)
	}
	if ps := testConfig().Problems(); ps != nil {
		t.Errorf("valid config: %+v", ps)
	}
}

func TestCallerAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from     string
		pai      []string
		want     conversation.Address
		asserted bool
	}{
		{name: "national number in From", from: "<sip:91234567@trunk.example>;tag=1", want: conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"}},
		{name: "international with user=phone", from: "<sip:+86 138 0013 8000@trunk.example;user=phone>;tag=1", want: conversation.Address{Kind: conversation.AddressPhone, Value: "+8613800138000"}},
		{name: "PAI tel preferred", from: "<sip:anonymous@anonymous.invalid>;tag=1", pai: []string{`"Alice" <sip:+85291234567@trunk.example>, <tel:+85261234567>`},
			want: conversation.Address{Kind: conversation.AddressPhone, Value: "+85261234567"}, asserted: true},
		{name: "PAI sip uri", from: "<sip:x@y>;tag=1", pai: []string{"<sip:+442079460000@carrier.example>"}, want: conversation.Address{Kind: conversation.AddressPhone, Value: "+442079460000"}, asserted: true},
		{name: "anonymous", from: `"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1`, want: conversation.Address{Kind: conversation.AddressSIP, Value: "sip:anonymous@anonymous.invalid"}},
		{name: "not a number", from: "<sip:alice@example.com;transport=tcp>;tag=1", want: conversation.Address{Kind: conversation.AddressSIP, Value: "sip:alice@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "INVITE sip:bank@gw SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: " + tt.from +
				"\r\nTo: <sip:bank@gw>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n"
			for _, p := range tt.pai {
				raw += "P-Asserted-Identity: " + p + "\r\n"
			}
			msg, err := sip.NewParser().ParseSIP([]byte(raw + "Content-Length: 0\r\n\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			got, asserted, err := callerAddress(msg.(*sip.Request), "HK")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || asserted != tt.asserted {
				t.Errorf("got %v (asserted %t), want %v (%t)", got.Value, asserted, tt.want.Value, tt.asserted)
			}
		})
	}
}

func TestDigestNonces(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_900_000_000, 0)
	auth := newDigestAuth("airbranch", "k", func() time.Time { return now })
	chal, err := digest.ParseChallenge(auth.challenge(false))
	if err != nil {
		t.Fatal(err)
	}
	creds := func(pass string, c *digest.Challenge) string {
		cr, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:gw", Username: "u", Password: pass, Cnonce: "abc", Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		return cr.String()
	}
	lookup := func(u string) (string, bool) { return "pw", u == "u" }
	tests := []struct {
		name string
		hdr  string
		at   time.Time
		want authResult
	}{
		{"valid", creds("pw", chal), now, authOK},
		{"wrong password", creds("nope", chal), now, authWrong},
		{"missing", "", now, authMissing},
		{"stale nonce", creds("pw", chal), now.Add(nonceLifetime + time.Second), authStale},
		{"forged nonce", creds("pw", &digest.Challenge{Realm: "airbranch", Nonce: fmt.Sprintf("%x.00", now.Unix()), Algorithm: "MD5", QOP: []string{"auth"}}), now, authWrong},
	}
	for _, tt := range tests {
		now = tt.at
		if got, _ := auth.check(tt.hdr, "REGISTER", lookup); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestForceRport(t *testing.T) {
	t.Parallel()
	udp := sip.TransportReadProps{Transport: "UDP"}
	tests := []struct{ name, in, want string }{
		{"adds rport", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\r\n", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\r\n"},
		{"before comma", "OPTIONS sip:a SIP/2.0\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b\r\n\r\n", "OPTIONS sip:a SIP/2.0\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1;rport , SIP/2.0/UDP b\r\n\r\n"},
		{"keeps rport", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP a;rport;branch=z9hG4bK1\r\n\r\n", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP a;rport;branch=z9hG4bK1\r\n\r\n"},
		{"folded left alone", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP\r\n a;branch=z9hG4bK1\r\n\r\n", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP\r\n a;branch=z9hG4bK1\r\n\r\n"},
		{"response untouched", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\n\r\n", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\n\r\n"},
	}
	for _, tt := range tests {
		got, err := forceRport(udp, []byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %q, %v", tt.name, got, err)
		}
	}
	if got, _ := forceRport(sip.TransportReadProps{Transport: "TCP"}, []byte(tests[0].in)); string(got) != tests[0].in {
		t.Error("tcp message changed")
	}
}

func TestInfoDigit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]byte{"5": '5', "*": '*', "#": '#', "a": 'A', "10": '*', "11": '#', "": 0, "x": 0, "16": 0} {
		if got := infoDigit(in); got != want {
			t.Errorf("infoDigit(%q) = %q, want %q", in, got, want)
		}
	}
}
