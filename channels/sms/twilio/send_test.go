package twilio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

func TestSend(t *testing.T) {
	e := newEnv(t)
	e.api.reply(201, `{"sid":"SM11112222333344445555666677778888","status":"queued","to":"+85291234567"}`)
	sent, err := e.p.Send(context.Background(), sms.Outbound{Account: testAcct, To: testNumber, Text: "您的定期存款已到期",
		Attachments: []conversation.Attachment{{Type: "application/pdf", Ref: "https://files.bank.example/s/1.pdf"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.ProviderIDs) != 1 || sent.ProviderIDs[0] != "SM11112222333344445555666677778888" || sent.Status != conversation.DeliverySent {
		t.Fatalf("sent %+v", sent)
	}
	calls := e.api.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	if c.Path != "POST /2010-04-01/Accounts/"+testSID+"/Messages.json" || c.User != testSID || c.Pass != testToken {
		t.Fatalf("call %s as %s:%s", c.Path, c.User, c.Pass)
	}
	want := map[string]string{"To": testNumber, "From": testAcct, "Body": "您的定期存款已到期",
		"MediaUrl": "https://files.bank.example/s/1.pdf", "StatusCallback": testPublic + statusPath}
	for k, v := range want {
		if got := c.Form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if c.Form.Has("MessagingServiceSid") {
		t.Errorf("MessagingServiceSid sent with a From account")
	}
	if strings.Contains(e.logs.String(), "91234567") || strings.Contains(e.logs.String(), "定期") {
		t.Fatalf("logs hold personal data in clear:\n%s", e.logs.String())
	}
}

func TestSendMessagingService(t *testing.T) {
	e := newEnv(t)
	if _, err := e.p.Send(context.Background(), sms.Outbound{Account: "hk-alerts", To: testNumber, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	c := e.api.Calls()[0]
	if c.Form.Get("MessagingServiceSid") != "MG00000000000000000000000000000009" || c.Form.Has("From") {
		t.Fatalf("form %v", c.Form)
	}
	if c.Form.Get("StatusCallback") != testPublic+"/webhooks/sms/twilio/hk-alerts/status" {
		t.Fatalf("StatusCallback %s", c.Form.Get("StatusCallback"))
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name         string
		msg          sms.Outbound
		status       int
		body         string
		wantIs       []error
		wantCode     string
		wantRetry    bool
		wantCalls    int
		suppressedAt bool
	}{
		{name: "invalid To", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x"}, status: 400,
			body:   `{"code": 21211, "message": "The 'To' number is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			wantIs: []error{}, wantCode: "21211", wantCalls: 1},
		{name: "unsubscribed at the provider", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x"}, status: 400,
			body:   `{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}`,
			wantIs: []error{conversation.ErrOptedOut, sms.ErrSuppressed}, wantCode: "21610", wantCalls: 1, suppressedAt: true},
		{name: "server error", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x"}, status: 503, body: `oops`,
			wantIs: []error{conversation.ErrUnavailable, ErrUnreachable}, wantCode: "http_503", wantRetry: true, wantCalls: 1},
		{name: "rate limited", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x"}, status: 429,
			body:   `{"code": 20429, "message": "Too Many Requests", "status": 429}`,
			wantIs: []error{conversation.ErrUnavailable}, wantCode: "20429", wantRetry: true, wantCalls: 1},
		{name: "unknown account", msg: sms.Outbound{Account: "+85238888888", To: testNumber, Text: "x"},
			wantIs: []error{ErrUnknownAccount, conversation.ErrInvalid}},
		{name: "recipient not E.164", msg: sms.Outbound{Account: testAcct, To: "91234567", Text: "x"},
			wantIs: []error{sms.ErrInvalidMessage}},
		{name: "too long", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: strings.Repeat("a", 1601)},
			wantIs: []error{sms.ErrTooLong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.status != 0 {
				e.api.reply(tt.status, tt.body)
			}
			_, err := e.p.Send(context.Background(), tt.msg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("%v does not wrap %v", err, target)
				}
			}
			var perr *conversation.ProviderError
			if tt.wantCode != "" {
				if !errors.As(err, &perr) {
					t.Fatalf("%v is not a ProviderError", err)
				}
				if perr.Code != tt.wantCode || perr.Retryable != tt.wantRetry || perr.Channel != conversation.ChannelSMS {
					t.Fatalf("provider error %+v", perr)
				}
			}
			if n := len(e.api.Calls()); n != tt.wantCalls {
				t.Fatalf("%d calls, want %d", n, tt.wantCalls)
			}
			if tt.suppressedAt {
				_, err := e.p.Send(context.Background(), tt.msg)
				if !errors.Is(err, sms.ErrSuppressed) || len(e.api.Calls()) != tt.wantCalls {
					t.Fatalf("second send: %v after %d calls", err, len(e.api.Calls()))
				}
			}
		})
	}
}

func TestSendUnreachable(t *testing.T) {
	e := newEnv(t)
	e.api.srv.Close()
	_, err := e.p.Send(context.Background(), sms.Outbound{Account: testAcct, To: testNumber, Text: "x"})
	if !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("%v, want ErrUnavailable", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := Config{
		APIBaseURL:    "ftp://x",
		PublicBaseURL: "https://gw.example/webhooks",
		Accounts:      []Account{{Name: "a b"}, {Name: "dup", From: "+85230001234"}, {Name: "dup", From: "+85230001234"}, {Name: "nofrom"}},
		DefaultRegion: "XX",
	}.withDefaults()
	err := cfg.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"account SID", "auth token", "api_base_url", "public_base_url", "default_region",
		`name "a b"`, `"dup" appears twice`, `"nofrom": needs from`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	good := Config{AccountSID: testSID, AuthToken: testToken, PublicBaseURL: testPublic, Accounts: []Account{{Name: testAcct}}}.withDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	if good.APIBaseURL != DefaultAPIBaseURL || good.Accounts[0].From != testAcct || good.MaxRequestBytes != DefaultMaxRequestBytes {
		t.Fatalf("defaults %+v", good)
	}
	if _, err := New(good, nil, nil, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("New without sink: %v", err)
	}
}
