package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbranch/airbranch/configs"
)

// The Twilio-compatible account of the SMS benchmarks.
const (
	benchTwilioSID   = "AC00000000000000000000000000000b01"
	benchTwilioToken = "bench-twilio-auth-token"
	benchTwilioBank  = "+85230001234"
	benchTwilioPub   = "https://sms.bank.example"
)

// twilioBench turns the Twilio-compatible provider on in cfg.
func twilioBench(cfg *configs.Config) {
	cfg.SMS.Twilio.Accounts = []configs.TwilioAccount{{Name: benchTwilioBank}}
	cfg.SMS.Twilio.PublicBaseURL = benchTwilioPub
	cfg.Secrets.TwilioAccountSID, cfg.Secrets.TwilioAuthToken = benchTwilioSID, benchTwilioToken
}

// formCall is one prepared form post: where, the encoded body and its
// X-Twilio-Signature.
type formCall struct{ url, body, sig string }

// signedSMS returns the inbound webhook of an SMS from from with body
// text and a MessageSid of its own, signed over the public URL.
func signedSMS(target, from, sid, text string) formCall {
	path := "/webhooks/sms/twilio/" + benchTwilioBank
	form := url.Values{"MessageSid": {sid}, "AccountSid": {benchTwilioSID}, "From": {from}, "To": {benchTwilioBank},
		"Body": {text}, "NumMedia": {"0"}}
	return formCall{url: target + path, body: form.Encode(), sig: twilioSign(benchTwilioToken, benchTwilioPub+path, form)}
}

// post sends one form call and checks the answer is 200.
func (c formCall) post(client *http.Client) error {
	req, _ := http.NewRequest(http.MethodPost, c.url, strings.NewReader(c.body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.sig != "" {
		req.Header.Set("X-Twilio-Signature", c.sig)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%d %q", res.StatusCode, body)
	}
	return nil
}

// loadForms sends every call with workers concurrent keep-alive clients
// of client and returns how long it took and each call's latency.
func loadForms(b *testing.B, client *http.Client, calls []formCall, workers int) (time.Duration, []time.Duration) {
	b.Helper()
	lat := make([]time.Duration, len(calls))
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(calls) {
					return
				}
				t0 := time.Now()
				if err := calls[i].post(client); err != nil {
					failed.Store(err.Error())
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		b.Fatalf("a webhook failed: %v", f)
	}
	return elapsed, lat
}

// BenchmarkSMSWebhooks measures Twilio-style inbound SMS webhooks with
// valid X-Twilio-Signature through the whole gateway (signature over the
// public URL and sorted form, E.164 check, opt-out check, the inbox
// storing each message in the memory store before the 200, routing of new
// conversations, metrics middleware) over loopback HTTP with 16
// concurrent keep-alive clients, beside a bare net/http handler that
// parses the same form and answers the same empty TwiML, loaded the same
// way in the same run. 20,000 webhooks each, from 100 numbers, sent in 10
// alternating rounds of 2,000 (gateway, bare, bare, gateway, ...) so that
// a change in the shared machine's load between the two halves does not
// skew the ratio. Run with -benchtime 1x.
func BenchmarkSMSWebhooks(b *testing.B) {
	const n, rounds, workers = 20000, 10, 16
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
	}))
	defer bare.Close()
	for i := 0; i < b.N; i++ {
		bg := startBenchGateway(b, twilioBench)
		calls := make([]formCall, n)
		bareCalls := make([]formCall, n)
		for j := range calls {
			from := fmt.Sprintf("+8525560%04d", j%100)
			calls[j] = signedSMS(bg.base, from, fmt.Sprintf("SM%032d", j), "Please call me about my deposit")
			bareCalls[j] = formCall{url: bare.URL + "/post", body: calls[j].body}
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
		var took, bareTook time.Duration
		var lat, bareLat []time.Duration
		chunk := n / rounds
		for r := range rounds {
			part := func(c []formCall, total *time.Duration, all *[]time.Duration) {
				d, l := loadForms(b, client, c[r*chunk:(r+1)*chunk], workers)
				*total += d
				*all = append(*all, l...)
			}
			if r%2 == 0 {
				part(calls, &took, &lat)
				part(bareCalls, &bareTook, &bareLat)
			} else {
				part(bareCalls, &bareTook, &bareLat)
				part(calls, &took, &lat)
			}
		}
		client.CloseIdleConnections()
		bg.stop()
		rate, bareRate := float64(n)/took.Seconds(), float64(n)/bareTook.Seconds()
		b.ReportMetric(rate, "webhooks/s")
		b.ReportMetric(p99(lat), "p99-µs")
		b.ReportMetric(bareRate, "bare-calls/s")
		b.ReportMetric(p99(bareLat), "bare-p99-µs")
		b.ReportMetric(rate/bareRate, "ratio")
	}
}

// BenchmarkSMSWebhookToDesk measures the time from sending a signed
// inbound SMS webhook to reading its "message" frame on the RM desk
// (/ws/desk, rm-pb-01, whose private-bank client writes in the
// conversation the RM accepted), 3,000 webhooks paced at 1,000/s, with
// the p99.9, and the garbage collector's cycles and stop-the-world pause
// during each phase (of the whole process, clients included); beside
// a bare relay in the same run (a net/http handler that parses the form
// and writes it as one frame to a gorilla/websocket desk connection).
// Run with -benchtime 1x.
func BenchmarkSMSWebhookToDesk(b *testing.B) {
	for i := 0; i < b.N; i++ {
		bg := startBenchGateway(b, twilioBench)
		desk := openDesk(b, bg)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		if err := signedSMS(bg.base, demoPhone, "SM-open", "Hello, I need my RM").post(client); err != nil {
			b.Fatal(err)
		}
		desk.accept(b, bg)
		calls := make([]formCall, benchLatencyMessages)
		for j := range calls {
			calls[j] = signedSMS(bg.base, demoPhone, "SM-bench-"+strconv.Itoa(j), "bench-"+strconv.Itoa(j))
		}
		gc := gcNow()
		sent := paced(b, len(calls), benchLatencyRate, 64, func(j int) error { return calls[j].post(client) })
		lat := desk.latencies(b, sent)
		cycles, pause := gc.since()
		desk.close()
		bg.stop()

		relay, bareDesk := newBareRelay(b)
		for j := range calls {
			calls[j] = formCall{url: relay.srv.URL + "/post", body: url.Values{"Body": {"bench-" + strconv.Itoa(j)}}.Encode()}
		}
		gc = gcNow()
		sent = paced(b, len(calls), benchLatencyRate, 64, func(j int) error { return calls[j].post(client) })
		base := bareDesk.latencies(b, sent)
		bareCycles, barePause := gc.since()
		bareDesk.close()
		relay.close()
		client.CloseIdleConnections()

		b.ReportMetric(pctl(lat, 0.50), "p50-µs")
		b.ReportMetric(pctl(lat, 0.99), "p99-µs")
		b.ReportMetric(pctl(base, 0.50), "bare-p50-µs")
		b.ReportMetric(pctl(base, 0.99), "bare-p99-µs")
		b.ReportMetric(pctl(lat, 0.999), "p99.9-µs")
		b.ReportMetric(float64(cycles), "gc-cycles")
		b.ReportMetric(float64(pause.Microseconds()), "gc-stw-µs")
		b.ReportMetric(float64(bareCycles), "bare-gc-cycles")
		b.ReportMetric(float64(barePause.Microseconds()), "bare-gc-stw-µs")
	}
}

// gcMark is the garbage collector's count of cycles and total
// stop-the-world pause at one moment (of the whole benchmark process:
// server and clients).
type gcMark struct {
	cycles uint32
	pause  time.Duration
}

func gcNow() gcMark {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return gcMark{cycles: ms.NumGC, pause: time.Duration(ms.PauseTotalNs)}
}

// since returns the cycles and the stop-the-world pause since m.
func (m gcMark) since() (uint32, time.Duration) {
	n := gcNow()
	return n.cycles - m.cycles, n.pause - m.pause
}
