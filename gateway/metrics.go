package gateway

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the gateway's Prometheus collectors in a registry of its
// own (no global registry, so tests can run several gateways at once).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ready    prometheus.Gauge
}

func newMetrics(instance string) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airbranch_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "airbranch_http_request_duration_seconds",
			Help:    "HTTP request latency in seconds, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "airbranch_ready",
			Help: "1 while the instance takes new work, 0 while starting or draining.",
		}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "airbranch_instance_info",
		Help:        "Constant 1, labelled with this instance's id.",
		ConstLabels: prometheus.Labels{"instance_id": instance},
	})
	info.Set(1)
	m.registry.MustRegister(m.requests, m.duration, m.ready, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// instrument counts and times each request. The route label is the
// matched ServeMux pattern (never the raw path, which would carry ids);
// inner asks a mounted handler (the API) for its own pattern.
func (m *metrics) instrument(next http.Handler, inner func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if p := inner(r); p != "" {
			route = p
		}
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusWriter records the status code written through it. It forwards
// Unwrap so http.ResponseController (flush, hijack for WebSockets) works.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over for a WebSocket upgrade (the desk,
// web chat, video): gorilla/websocket asserts http.Hijacker on the writer
// it is given rather than use http.ResponseController.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.code, w.wroteHeader = http.StatusSwitchingProtocols, true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// methodLabel bounds the method label to the standard methods (RFC 9110
// §9), so a client sending made-up methods cannot grow the series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
