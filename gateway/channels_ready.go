package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"

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

// registerLinkMetrics adds airbranch_channel_link_up (1 bound, 0 not) for
// each provider link to the gateway's registry.
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
}

// readyzWithLinks is GET /readyz: readyz's answer (store reachable,
// listeners up, not draining) with the state of each provider link added
// under "channels", e.g. {"status":"degraded","channels":{"sms.smpp":
// "not_bound"}}. A link that is down leaves the instance ready (200) with
// status "degraded": the outage is the SMSC's or the network's and every
// instance shares it, so taking this one out of the load balancer would
// stop its webhooks, API and other channels without bringing SMS back.
// Replies on that link wait up to sms.smpp.submit_timeout for a bind, then
// fail as unreachable; the bind is retried with backoff and the metric
// airbranch_channel_link_up says when it is down.
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
