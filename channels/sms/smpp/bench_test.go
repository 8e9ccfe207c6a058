package smpp

import (
	"testing"

	"github.com/airbranch/airbranch/channels/sms"
)

// BenchmarkSubmit measures single-part submit_sm per second through Send,
// window 10, against the test SMSC on loopback (no throughput limit).
func BenchmarkSubmit(b *testing.B) {
	h := start(b, nil, func(c *Config) { c.Window = 10; c.Throughput = 1e9 })
	h.waitBound(b)
	m := sms.Outbound{Account: testAcct, To: testNumber, Text: "Your one-time code is 482913"}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.p.Send(ctx(b), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}
