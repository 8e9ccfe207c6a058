package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Link states /readyz reports under "channels".
const (
	linkBound    = "bound"
	linkNotBound = "not_bound"
)

// links returns the state of each long-lived provider link by name (today
// the SMPP bind, "sms.smpp"); empty when there is none.
func (c *channels) links() map[string]string {
	out := map[string]string{}
	if c.smpp != nil {
		out["sms.smpp"] = linkNotBound
		if c.smpp.Bound() {
			out["sms.smpp"] = linkBound
		}
	}
	return out
}

// held returns the number of replies held on each provider link while it
// is down, by the same names as links (at most heldCountCap each); empty
// when there is no such link.
func (c *channels) held(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	if c.hold != nil {
		n, err := c.hold.held(ctx)
		if err != nil {
			return nil, err
		}
		out["sms.smpp"] = n
	}
	return out, nil
}

// registerLinkMetrics adds airbranch_channel_link_up (1 bound, 0 not) and
// airbranch_channel_held_messages for each provider link to the gateway's
// registry.
func (c *channels) registerLinkMetrics(m *metrics) {
	if c.smpp == nil {
		return
	}
	p := c.smpp
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "airbranch_channel_link_up",
		Help:        "1 while a channel's provider link (an SMPP bind) is up, 0 while it is down and being rebound.",
		ConstLabels: prometheus.Labels{"channel": "sms", "provider": "smpp", "account": p.Account()},
	}, func() float64 {
		if p.Bound() {
			return 1
		}
		return 0
	}))
	h := c.hold
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "airbranch_channel_held_messages",
		Help:        "Replies held in the store while a channel's provider link (an SMPP bind) is down, as last counted; they go out in order once it is back.",
		ConstLabels: prometheus.Labels{"channel": "sms", "provider": "smpp", "account": p.Account()},
	}, func() float64 { return float64(h.count.Load()) }))
}

// readyzWithLinks is GET /readyz: readyz's answer (store reachable,
// listeners up, not draining) with the state of each provider link added
// under "channels" and the replies held for each under "held" (counted
// in the store, so every instance reports the account's), e.g.
// {"status":"degraded","channels":{"sms.smpp":"not_bound"},"held":
// {"sms.smpp":3}}. A link that is down leaves the instance ready (200) with
// status "degraded": the outage is the SMSC's or the network's and every
// instance shares it, so taking this one out of the load balancer would
// stop its webhooks, API and other channels without bringing SMS back.
// Replies on that link are held in the store and sent in order once it is
// back; the bind is retried with backoff and the metrics
// airbranch_channel_link_up and airbranch_channel_held_messages say when
// it is down and what waits.
func (g *Gateway) readyzWithLinks(w http.ResponseWriter, r *http.Request) {
	links := g.channels.links()
	if len(links) == 0 {
		g.readyz(w, r)
		return
	}
	rec := &bufferedResponse{header: http.Header{}, code: http.StatusOK}
	g.readyz(rec, r)
	var body map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
		rec.copyTo(w)
		return
	}
	degraded := false
	for _, state := range links {
		degraded = degraded || state != linkBound
	}
	body["channels"] = links
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if held, err := g.channels.held(ctx); err == nil {
		body["held"] = held
	}
	if degraded && body["status"] == "ready" {
		body["status"] = "degraded"
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	writeJSON(w, rec.code, body)
}

// bufferedResponse is an http.ResponseWriter that keeps the response.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }

// copyTo writes the kept response to w unchanged.
func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.code)
	_, _ = w.Write(b.body.Bytes())
}
