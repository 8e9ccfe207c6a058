package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

const inboundPath = "/webhooks/sms/twilio/" + testAcct

// withField returns the form body with field set to value ("" value with
// del removes it).
func withField(t *testing.T, body, field, value string, del bool) string {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	if del {
		form.Del(field)
	} else {
		form.Set(field, value)
	}
	return form.Encode()
}

func TestInbound(t *testing.T) {
	sms1 := readFile(t, "inbound-sms.form")
	mms := readFile(t, "inbound-mms.form")
	tests := []struct {
		name       string
		path       string
		body       string
		sig        string // "" signs correctly, "-" sends none
		sinkErr    error
		mutate     func(*Config)
		wantStatus int
		wantStored int
		check      func(t *testing.T, in conversation.Incoming)
	}{
		{name: "sms", body: sms1, wantStatus: 200, wantStored: 1, check: func(t *testing.T, in conversation.Incoming) {
			want := conversation.Incoming{Kind: conversation.IncomingMessage, Channel: conversation.ChannelSMS, ChannelAccount: testAcct,
				From: conversation.Address{Kind: conversation.AddressPhone, Value: testNumber}, ProviderID: "SM0f1e2d3c4b5a69788796a5b4c3d2e1f0",
				Text: "Hello, can my RM call me about the fixed deposit?", Verification: conversation.VerificationBasic}
			in.ReceivedAt = want.ReceivedAt
			if fmt.Sprint(in) != fmt.Sprint(want) {
				t.Fatalf("incoming\n got %+v\nwant %+v", in, want)
			}
		}},
		{name: "mms with two media by reference", body: mms, wantStatus: 200, wantStored: 1, check: func(t *testing.T, in conversation.Incoming) {
			if in.Text != "這是我的證件" || len(in.Attachments) != 2 {
				t.Fatalf("text %q, %d attachments", in.Text, len(in.Attachments))
			}
			if a := in.Attachments[1]; a.Type != "application/pdf" || !strings.HasSuffix(a.Ref, "/Media/ME00000000000000000000000000000002") {
				t.Fatalf("attachment %+v", a)
			}
		}},
		{name: "national From read in the default region", body: withField(t, sms1, "From", "9123 4567", false), wantStatus: 200, wantStored: 1,
			check: func(t *testing.T, in conversation.Incoming) {
				if in.From.Value != testNumber {
					t.Fatalf("from %s", in.From.Value)
				}
			}},
		{name: "account by name", path: "/webhooks/sms/twilio/hk-alerts", body: sms1, wantStatus: 200, wantStored: 1,
			check: func(t *testing.T, in conversation.Incoming) {
				if in.ChannelAccount != "hk-alerts" {
					t.Fatalf("account %q", in.ChannelAccount)
				}
			}},
		{name: "forged signature", body: sms1, sig: "vOEb5UThFn24KEfnOFLQY2AE5FY=", wantStatus: 403},
		{name: "missing signature", body: sms1, sig: "-", wantStatus: 403},
		{name: "signature of another account's URL", body: sms1, sig: "other", wantStatus: 403},
		{name: "body changed after signing", body: sms1, sig: "tampered", wantStatus: 403},
		{name: "unknown account", path: "/webhooks/sms/twilio/+85239999999", body: sms1, wantStatus: 404},
		{name: "missing From", body: withField(t, sms1, "From", "", true), wantStatus: 400},
		{name: "missing Body", body: withField(t, sms1, "Body", "", true), wantStatus: 400},
		{name: "missing MessageSid", body: withField(t, withField(t, sms1, "MessageSid", "", true), "SmsMessageSid", "", true), wantStatus: 400},
		{name: "From not a phone number", body: withField(t, sms1, "From", "whatsapp:+14133881111", false), wantStatus: 400},
		{name: "NumMedia without MediaUrl", body: withField(t, sms1, "NumMedia", "1", false), wantStatus: 400},
		{name: "request body over the limit", body: withField(t, sms1, "Padding", strings.Repeat("x", 5000), false),
			mutate: func(c *Config) { c.MaxRequestBytes = 4096 }, wantStatus: 413},
		{name: "text over the limit", body: withField(t, sms1, "Body", strings.Repeat("好", 1601), false), wantStatus: 413},
		{name: "sink unavailable", body: sms1, sinkErr: fmt.Errorf("store down: %w", conversation.ErrUnavailable), wantStatus: 503},
		{name: "sink says invalid", body: sms1, sinkErr: fmt.Errorf("bad: %w", conversation.ErrInvalid), wantStatus: 400},
		{name: "sink fails otherwise", body: sms1, sinkErr: errors.New("boom"), wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []func(*Config)
			if tt.mutate != nil {
				mutate = append(mutate, tt.mutate)
			}
			e := newEnv(t, mutate...)
			e.sink.SetErrors(tt.sinkErr, nil)
			path := tt.path
			if path == "" {
				path = inboundPath
			}
			sig := tt.sig
			form, _ := url.ParseQuery(tt.body)
			switch sig {
			case "other":
				sig = sign(testToken, testPublic+"/webhooks/sms/twilio/hk-alerts", form)
			case "tampered":
				sig = sign(testToken, testPublic+path, form)
				tt.body = withField(t, tt.body, "Body", "Transfer all my money", false)
			}
			rec := e.post(t, path, tt.body, sig)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			got := e.sink.Received()
			if len(got) != tt.wantStored {
				t.Fatalf("%d stored, want %d", len(got), tt.wantStored)
			}
			if tt.wantStatus == 200 {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") || !strings.Contains(rec.Body.String(), "<Response/>") {
					t.Fatalf("answer %q %q, want empty TwiML", ct, rec.Body.String())
				}
			}
			if tt.check != nil {
				tt.check(t, got[0])
			}
			if strings.Contains(e.logs.String(), "91234567") || strings.Contains(e.logs.String(), "fixed deposit") {
				t.Fatalf("logs hold a phone number or a message body in clear:\n%s", e.logs.String())
			}
		})
	}
}

func TestInboundDuplicateStoredOnce(t *testing.T) {
	e := newEnv(t)
	body := readFile(t, "inbound-sms.form")
	for i := range 3 {
		if rec := e.post(t, inboundPath, body, ""); rec.Code != 200 {
			t.Fatalf("post %d: status %d", i, rec.Code)
		}
	}
	if n := len(e.sink.Received()); n != 1 {
		t.Fatalf("stored %d times, want once", n)
	}
}

func TestInboundRetryAfterUnavailable(t *testing.T) {
	e := newEnv(t)
	body := readFile(t, "inbound-sms.form")
	e.sink.SetUnavailable(true)
	if rec := e.post(t, inboundPath, body, ""); rec.Code != 503 {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	e.sink.SetUnavailable(false)
	if rec := e.post(t, inboundPath, body, ""); rec.Code != 200 {
		t.Fatalf("retry: status %d, want 200", rec.Code)
	}
	if n := len(e.sink.Received()); n != 1 {
		t.Fatalf("stored %d, want 1", n)
	}
}

func TestInboundOptOut(t *testing.T) {
	tests := []struct {
		name, body, optOutType string
		wantEvent              string
		wantSuppressed         bool
	}{
		{"STOP", "STOP", "", sms.EventOptOut, true},
		{"stop lower case with spaces", "  stop ", "", sms.EventOptOut, true},
		{"退订", "退订", "", sms.EventOptOut, true},
		{"provider OptOutType", "Stop sending", "STOP", sms.EventOptOut, true},
		{"not a keyword", "please stop calling me at work", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			body := withField(t, readFile(t, "inbound-sms.form"), "Body", tt.body, false)
			if tt.optOutType != "" {
				body = withField(t, body, "OptOutType", tt.optOutType, false)
			}
			if rec := e.post(t, inboundPath, body, ""); rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			in := e.sink.Received()[0]
			if in.Event != tt.wantEvent || (tt.wantEvent != "") != (in.Kind == conversation.IncomingEvent) {
				t.Fatalf("kind %s event %q, want event %q", in.Kind, in.Event, tt.wantEvent)
			}
			_, err := e.p.Send(context.Background(), sms.Outbound{Account: testAcct, To: testNumber, Text: "Your card is ready"})
			if tt.wantSuppressed != errors.Is(err, conversation.ErrOptedOut) {
				t.Fatalf("send after %q: %v", tt.body, err)
			}
			wantCalls := 1
			if tt.wantSuppressed {
				wantCalls = 0
			}
			if n := len(e.api.Calls()); n != wantCalls {
				t.Fatalf("%d REST calls, want %d", n, wantCalls)
			}
			// START re-subscribes.
			if tt.wantSuppressed {
				if rec := e.post(t, inboundPath, withField(t, withField(t, withField(t, body, "OptOutType", "", true), "Body", "START", false), "MessageSid", "SMstart", false), ""); rec.Code != 200 {
					t.Fatalf("START: status %d", rec.Code)
				}
				if got := e.sink.Received(); got[len(got)-1].Event != sms.EventOptIn {
					t.Fatalf("START event %q", got[len(got)-1].Event)
				}
				if _, err := e.p.Send(context.Background(), sms.Outbound{Account: testAcct, To: testNumber, Text: "Welcome back"}); err != nil {
					t.Fatalf("send after START: %v", err)
				}
			}
		})
	}
}

func TestInboundRoutes(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, inboundPath, http.StatusMethodNotAllowed},
		{http.MethodPost, "/webhooks/sms/twilio/", http.StatusNotFound},
		{http.MethodPost, inboundPath + "/other", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		e.p.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
	if got := e.p.InboundURL(testAcct); got != testPublic+inboundPath {
		t.Errorf("InboundURL = %s", got)
	}
}

// One provider normalises each From the same way every time, whether the
// number was seen before (its E.164 form is then remembered) or not, and
// refuses a number that is not one every time.
func TestInboundFromRemembered(t *testing.T) {
	e := newEnv(t)
	sms1 := readFile(t, "inbound-sms.form")
	for i, from := range []string{"9123 4567", "+852 9123 4567", "9123 4567", testNumber, testNumber} {
		body := withField(t, withField(t, sms1, "From", from, false), "MessageSid", fmt.Sprintf("SM%032d", i), false)
		if rec := e.post(t, inboundPath, body, ""); rec.Code != 200 {
			t.Fatalf("post %d (%q): status %d", i, from, rec.Code)
		}
	}
	got := e.sink.Received()
	if len(got) != 5 {
		t.Fatalf("stored %d, want 5", len(got))
	}
	for i, in := range got {
		if in.From.Value != testNumber {
			t.Errorf("message %d from %s, want %s", i, in.From.Value, testNumber)
		}
	}
	for i := range 2 {
		body := withField(t, withField(t, sms1, "From", "+852 9123 456", false), "MessageSid", fmt.Sprintf("SMbad%d", i), false)
		if rec := e.post(t, inboundPath, body, ""); rec.Code != 400 {
			t.Fatalf("short number, post %d: status %d, want 400", i, rec.Code)
		}
	}
}
