package twilio

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
)

type vectorFile struct {
	Vectors []struct {
		ID          string            `json:"id"`
		AuthToken   string            `json:"auth_token"`
		URL         string            `json:"url"`
		Params      map[string]string `json:"params"`
		Body        *string           `json:"body"`
		Signature   string            `json:"signature"`
		ExpectValid bool              `json:"expect_valid"`
	} `json:"vectors"`
}

// TestSignatureVectors reproduces the published X-Twilio-Signature
// vectors (testdata/signature-vectors.json) with the validator the
// provider uses, and checks that the test helper sign computes the same
// signatures, so the end-to-end tests sign as the provider does.
func TestSignatureVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/signature-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	if len(vf.Vectors) < 10 {
		t.Fatalf("only %d vectors", len(vf.Vectors))
	}
	for _, v := range vf.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			rv := twclient.NewRequestValidator(v.AuthToken)
			var got bool
			if v.Body != nil {
				got = rv.ValidateBody(v.URL, []byte(*v.Body), v.Signature)
			} else {
				got = rv.Validate(v.URL, v.Params, v.Signature)
				form := url.Values{}
				body := url.Values{}
				for k, val := range v.Params {
					form.Set(k, val)
					body.Set(k, val)
				}
				// The same parameters as a POST body, as webhooks send them.
				if bodyOK := rv.ValidateBody(v.URL, []byte(body.Encode()), v.Signature); bodyOK != v.ExpectValid {
					t.Errorf("ValidateBody over the form body = %v, want %v", bodyOK, v.ExpectValid)
				}
				if v.ExpectValid && v.ID != "form-params-https-port-in-request-url" && v.ID != "form-params-http-port-in-request-url" {
					if s := sign(v.AuthToken, v.URL, form); s != v.Signature {
						t.Errorf("sign = %s, want %s", s, v.Signature)
					}
				}
			}
			if got != v.ExpectValid {
				t.Fatalf("valid = %v, want %v", got, v.ExpectValid)
			}
		})
	}
}

// The provider's signature check (exactSigner in front of twilio-go's
// Validate) accepts and refuses exactly what twilio-go's ValidateBody
// does for the same URL, form body and signature, and exactSigner alone
// never accepts what twilio-go refuses: over the published vectors, and
// over URLs with and without ports and queries, forms with repeated,
// empty, upper-case and non-ASCII fields, signed over the URL as given,
// over its port variants, with another token, and altered.
func TestExactSignerAgreesWithTwilioGo(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/signature-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	type check struct {
		name, token, url string
		form             url.Values
		sig              string
	}
	var checks []check
	for _, v := range vf.Vectors {
		if v.Body != nil {
			continue
		}
		form := url.Values{}
		for k, val := range v.Params {
			form.Set(k, val)
		}
		checks = append(checks, check{"vector " + v.ID, v.AuthToken, v.URL, form, v.Signature})
	}
	urls := []string{
		"https://sms.bank.example/webhooks/sms/twilio/+85230001234",
		"https://sms.bank.example:443/webhooks/sms/twilio/+85230001234",
		"http://sms.bank.example:8080/webhooks/sms/twilio/acct?x=1&y=%20z",
		"https://sms.bank.example/webhooks/sms/twilio/%E9%A6%99%E6%B8%AF",
	}
	forms := []url.Values{
		{"From": {"+85291234567"}, "To": {"+85230001234"}, "Body": {"Hello"}, "MessageSid": {"SM1"}},
		{"Body": {"退订"}, "body": {"lower"}, "Empty": {""}, "Twice": {"first", "second"}},
		{},
	}
	for _, u := range urls {
		variants := []string{u, twilioPortVariant(t, u, true), twilioPortVariant(t, u, false)}
		for fi, f := range forms {
			for vi, signed := range variants {
				good := sign(testToken, signed, f)
				name := fmt.Sprintf("%s form %d signed over variant %d", u, fi, vi)
				checks = append(checks,
					check{name, testToken, u, f, good},
					check{name + " altered", testToken, u, f, good[:5] + string(good[5]^1) + good[6:]},
					check{name + " other token", testToken, u, f, sign("another-token", signed, f)},
				)
			}
			checks = append(checks, check{u + " no signature", testToken, u, f, ""})
		}
	}
	var accepted, fast int
	for _, c := range checks {
		rv := twclient.NewRequestValidator(c.token)
		body := []byte(c.form.Encode())
		want := rv.ValidateBody(c.url, body, c.sig)
		p := &Provider{validator: rv, exact: newExactSigner(c.token)}
		pu, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		form, formErr := url.ParseQuery(string(body))
		if got := p.valid(c.url, pu, body, form, formErr, c.sig); got != want {
			t.Errorf("%s: valid = %v, twilio-go ValidateBody = %v", c.name, got, want)
		}
		exact := p.exact.matches(c.url, form, c.sig)
		if exact && !want {
			t.Errorf("%s: exactSigner accepts what twilio-go refuses", c.name)
		}
		if want {
			accepted++
		}
		if exact {
			fast++
		}
	}
	// Both paths were taken: signatures over the URL as given, and over a
	// port variant that only twilio-go's Validate accepts.
	if fast == 0 || fast == accepted {
		t.Fatalf("%d of %d checks accepted, %d by exactSigner: one path was never taken", accepted, len(checks), fast)
	}
}

// twilioPortVariant returns u with its scheme's default port added (add)
// or its port removed, as twilio-go's validator tries.
func twilioPortVariant(t *testing.T, u string, add bool) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case add && p.Port() == "" && p.Scheme == "https":
		p.Host += ":443"
	case add && p.Port() == "":
		p.Host += ":80"
	case !add && p.Port() != "":
		p.Host = p.Hostname()
	default:
		return u
	}
	return p.String()
}

// exactSigner is safe for concurrent use (run with -race) and agrees
// with the test helper sign.
func TestExactSignerConcurrent(t *testing.T) {
	t.Parallel()
	s := newExactSigner(testToken)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				form := url.Values{"MessageSid": {fmt.Sprintf("SM%d-%d", w, i)}, "Body": {strings.Repeat("x", i)}}
				u := testPublic + inboundPath
				if !s.matches(u, form, sign(testToken, u, form)) {
					t.Errorf("worker %d message %d: a good signature refused", w, i)
					return
				}
				if s.matches(u, form, sign(testToken, u+"x", form)) {
					t.Errorf("worker %d message %d: a signature over another URL accepted", w, i)
					return
				}
			}
		})
	}
	wg.Wait()
}
