package webchat

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkMessageAck measures a client message's round trip over a
// loopback WebSocket: frame read, Sink.Receive (the in-memory fake),
// echo appended to the stream, ack written and read. It reports the
// median and p99 in microseconds; the gateway's figure adds its store.
func BenchmarkMessageAck(b *testing.B) {
	h := newHarness(b, func(c *Config, _ *Deps) { c.MessagesPerSecond = 1000; c.FramesPerSecond = 1000 })
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		h.clock.Add(time.Second) // keep the rate limit out of the measure
		start := time.Now()
		c.say(fmt.Sprintf("b-%d", i), "hello")
		lat = append(lat, time.Since(start))
		c.held = c.held[:0]
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_us")
}
