package gateway

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/airbranch/airbranch/configs"
)

// openAllHours writes the demo directory with every team open around
// the clock (so a benchmark measures the daytime path, where a client's
// messages join their open conversation, whatever the hour it runs) and
// returns its path.
func openAllHours(b *testing.B) string {
	b.Helper()
	lines := strings.Split(string(configs.DemoDirectoryYAML()), "\n")
	var out []string
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "- {days:") {
			if i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "- {days:") {
				continue
			}
			l = l[:strings.Index(l, "-")] + `- {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}`
		}
		out = append(out, l)
	}
	path := filepath.Join(b.TempDir(), "directory.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// webhookCall is one prepared request: its URL (with the signed query)
// and body.
type webhookCall struct{ url, body string }

// load sends every call with workers concurrent keep-alive clients and
// returns the rate (calls/s) and the latencies; every answer must be 200
// "success".
func load(b *testing.B, calls []webhookCall, workers int) (float64, []time.Duration) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer client.CloseIdleConnections()
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
				res, err := client.Post(calls[i].url, "text/xml", strings.NewReader(calls[i].body))
				if err != nil {
					failed.Store(err.Error())
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				lat[i] = time.Since(t0)
				if res.StatusCode != http.StatusOK || string(body) != "success" {
					failed.Store(fmt.Sprintf("%d %q", res.StatusCode, body))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		b.Fatalf("a callback failed: %v", f)
	}
	return float64(len(calls)) / elapsed.Seconds(), lat
}

func p99(lat []time.Duration) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[len(s)*99/100].Microseconds())
}

// BenchmarkWeChatCallbacks measures WeChat text-message callbacks through
// the whole gateway (signature, decryption in safe mode, the inbox storing
// each message in the memory store before "success", routing queued) over
// loopback HTTP with 16 concurrent keep-alive clients, beside a bare
// net/http handler that reads the body and answers "success", loaded the
// same way in the same run. 20,000 callbacks each, from 100 openids. Run
// with -benchtime 1x.
func BenchmarkWeChatCallbacks(b *testing.B) {
	const (
		appID, secret, token, originalID = "wxbench000000001", "bench-secret", "benchToken1", "gh_bench00000001"
		n, workers                       = 20000, 16
	)
	key := make([]byte, 32)
	copy(key, "airbranch benchmark aes key 32b!")
	aesKey := strings.TrimSuffix(base64.StdEncoding.EncodeToString(key), "=")

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("success"))
	}))
	defer bare.Close()

	for i := 0; i < b.N; i++ {
		for _, mode := range []string{"plain", "aes"} {
			cfg := configs.Default()
			cfg.Secrets.JWTSecret = "bench-secret-of-at-least-32-bytes!!"
			cfg.HTTP.DrainDelay = 0
			cfg.Log.Level = "error"
			cfg.WeChat.Accounts = []configs.WeChatAccount{{OriginalID: originalID}}
			cfg.Directory.File = openAllHours(b)
			cfg.Secrets.WeChatAppID, cfg.Secrets.WeChatSecret, cfg.Secrets.WeChatToken, cfg.Secrets.WeChatAESKey = appID, secret, token, aesKey
			ctx, cancel := context.WithCancel(context.Background())
			g, err := New(ctx, cfg, NewLogger(io.Discard, "error", "json"))
			if err != nil {
				b.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- g.Serve(ctx, ln) }()
			base := "http://" + ln.Addr().String() + "/webhooks/wechat?"

			now := time.Now()
			ts := strconv.FormatInt(now.Unix(), 10)
			calls := make([]webhookCall, n)
			for j := range calls {
				openid := fmt.Sprintf("o-bench-openid-%03d", j%100)
				msgID := strconv.FormatInt(7000000000000000000+int64(j), 10)
				plain := "<xml><ToUserName><![CDATA[" + originalID + "]]></ToUserName><FromUserName><![CDATA[" + openid +
					"]]></FromUserName><CreateTime>" + ts + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[Please call me about my deposit]]></Content><MsgId>" +
					msgID + "</MsgId></xml>"
				nonce := "n" + msgID
				q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {openid}, "signature": {util.Signature(token, ts, nonce)}}
				body := plain
				if mode == "aes" {
					enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), appID, aesKey)
					if err != nil {
						b.Fatal(err)
					}
					q.Set("encrypt_type", "aes")
					q.Set("msg_signature", util.Signature(token, ts, nonce, string(enc)))
					body = "<xml><ToUserName><![CDATA[" + originalID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
				}
				calls[j] = webhookCall{url: base + q.Encode(), body: body}
			}
			bareCalls := make([]webhookCall, n)
			for j := range bareCalls {
				bareCalls[j] = webhookCall{url: bare.URL + "/", body: calls[j].body}
			}
			rate, lat := load(b, calls, workers)
			bareRate, bareLat := load(b, bareCalls, workers)
			cancel()
			<-done
			_ = g.store.Close()
			b.ReportMetric(rate, mode+"-callbacks/s")
			b.ReportMetric(p99(lat), mode+"-p99-µs")
			b.ReportMetric(bareRate, mode+"-bare-calls/s")
			b.ReportMetric(p99(bareLat), mode+"-bare-p99-µs")
			b.ReportMetric(rate/bareRate, mode+"-ratio")
		}
	}
}
