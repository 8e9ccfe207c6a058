package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/silenceper/wechat/v2/util"

	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
)

// The providers' side: each sender acts as the provider does, retrying
// what the gateway did not acknowledge (5xx, or no answer) until it is,
// or until its deadline. Each returns how many attempts it took and the
// statuses it saw.

// attempts is what a provider saw while delivering one message.
type attempts struct {
	Statuses []int // HTTP statuses, or SMPP command_status values
	Acked    bool
}

// retryFor is how long a provider keeps retrying one message.
const retryFor = 90 * time.Second

// postUntilAcked posts body to target until a 2xx (or a 4xx, which no
// provider retries), every 500 ms, for retryFor.
func postUntilAcked(target, contentType, body string, header http.Header) attempts {
	var a attempts
	deadline := time.Now().Add(retryFor)
	for {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := httpClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			a.Statuses = append(a.Statuses, res.StatusCode)
			if res.StatusCode < 500 {
				a.Acked = res.StatusCode < 300
				return a
			}
		} else {
			a.Statuses = append(a.Statuses, 0)
		}
		if time.Now().After(deadline) {
			return a
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// twilioSignature is X-Twilio-Signature of a form post to fullURL:
// base64 of HMAC-SHA1(auth token, URL + each parameter's name and value
// sorted by name) (Twilio "Webhooks security").
func twilioSignature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form.Get(k))
	}
	h := hmac.New(sha1.New, []byte(token))
	h.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// sendTwilioSMS posts a signed inbound-message webhook (Twilio
// "Messaging webhook" fields) from a handset to the bank's Twilio
// account, as Twilio does, retrying until acknowledged.
func (c *cluster) sendTwilioSMS(from, text, messageSID string) attempts {
	path := "/webhooks/sms/twilio/" + url.PathEscape(twilioAccount)
	form := url.Values{"MessageSid": {messageSID}, "SmsSid": {messageSID}, "AccountSid": {twilioSID},
		"From": {from}, "To": {twilioAccount}, "Body": {text}, "NumMedia": {"0"}, "NumSegments": {"1"}}
	h := http.Header{"X-Twilio-Signature": {twilioSignature(twilioToken, c.URL()+path, form)}}
	return postUntilAcked(c.URL()+path, "application/x-www-form-urlencoded", form.Encode(), h)
}

// sendSMPP delivers a mobile-originated message over the SMSC's binds
// (deliver_sm), as an SMSC does: again, every 500 ms, until a bound
// gateway answers ESME_ROK, for retryFor.
func (c *cluster) sendSMPP(from, text string) attempts {
	var a attempts
	deadline := time.Now().Add(retryFor)
	for {
		p, err := smsctest.MO(strings.TrimPrefix(from, "+"), strings.TrimPrefix(smppAccount, "+"), text)
		if err != nil {
			return a
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := c.smsc.Deliver(ctx, p)
		cancel()
		if err == nil {
			a.Statuses = append(a.Statuses, int(st))
			if st == data.ESME_ROK {
				a.Acked = true
				return a
			}
		} else {
			a.Statuses = append(a.Statuses, -1)
		}
		if time.Now().After(deadline) {
			return a
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// wechatText is a text message callback's XML as WeChat sends it (the
// layout of the official account samples, e.g. text-real.xml of the
// platform documentation's "Receiving ordinary messages").
func wechatText(openid, msgID, text string, at time.Time) string {
	return "<xml><ToUserName><![CDATA[" + wechatOriginalID + "]]></ToUserName><FromUserName><![CDATA[" + openid +
		"]]></FromUserName><CreateTime>" + strconv.FormatInt(at.Unix(), 10) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" +
		text + "]]></Content><MsgId>" + msgID + "</MsgId></xml>"
}

// sendWeChat posts a text message callback in plain mode (signature
// over token, timestamp and nonce) or, encrypted, in safe mode
// (msg_signature and AES-CBC body, WeChat "Message encryption and
// decryption"), retrying until WeChat would see "success".
func (c *cluster) sendWeChat(openid, msgID, text string, encrypted bool) attempts {
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := "e2e" + msgID
	plain := wechatText(openid, msgID, text, now)
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {openid}, "signature": {util.Signature(wechatToken, ts, nonce)}}
	body := plain
	if encrypted {
		enc, err := util.EncryptMsg([]byte("e2e-random-16byt"), []byte(plain), wechatAppID, wechatAESKey)
		if err != nil {
			panic(fmt.Sprintf("wechat encrypt: %v", err))
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(wechatToken, ts, nonce, string(enc)))
		body = "<xml><ToUserName><![CDATA[" + wechatOriginalID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	}
	return postUntilAcked(c.URL()+"/webhooks/wechat?"+q.Encode(), "text/xml", body, nil)
}
