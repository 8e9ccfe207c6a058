package wechat

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzCallbackBody posts arbitrary bodies with a valid plain-mode
// signature (which does not cover the body): the handler never panics and
// answers only 200, 400, 403 or 413.
func FuzzCallbackBody(f *testing.F) {
	files, _ := filepath.Glob("testdata/plain/*.xml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("<xml><![CDATA[]]></xml>"))
	f.Add([]byte("<xml><ToUserName>gh_a1b2c3d4e5f6</ToUserName><FromUserName>o</FromUserName><CreateTime>9223372036854775807</CreateTime><MsgType>event</MsgType><Event>CLICK</Event></xml>"))
	a, err := New(testConfig(f), Deps{Sink: newFakeSink(), Now: func() time.Time { return testNow }})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	target := WebhookPath + "?" + signedQuery(testToken, testNow.Unix(), "n").Encode()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
