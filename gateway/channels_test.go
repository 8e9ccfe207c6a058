package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/silenceper/wechat/v2/util"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state"
)

// TestTwilioSMSEndToEnd: a Twilio-signed SMS from the demo private-bank
// client is stored once (a retry too), refused with 403 when forged, routed
// to the client's own RM, who accepts and replies through the API; the
// reply reaches the provider's Messages API from the bank's number, and a
// signed status callback moves it to delivered.
func TestTwilioSMSEndToEnd(t *testing.T) {
	t.Parallel()
	const (
		sid       = "AC00000000000000000000000000000042"
		authToken = "e2e-twilio-auth-token"
		bank      = "+85230001234"
		public    = "https://sms.bank.example"
	)
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		api := newFakeTwilio(t, sid, authToken)
		cfg.SMS.Twilio.Accounts = []configs.TwilioAccount{{Name: bank}}
		cfg.SMS.Twilio.PublicBaseURL, cfg.SMS.Twilio.APIBaseURL = public, api.srv.URL
		cfg.Secrets.TwilioAccountSID, cfg.Secrets.TwilioAuthToken = sid, authToken
		cfg.HTTP.MaxBodyBytes = 4096
		logs := &syncBuffer{}
		r := start(t, cfg, logs)
		d := newDesk(t, r)
		path := "/webhooks/sms/twilio/" + bank
		inbound := url.Values{"MessageSid": {"SM0000000000000000000000000000e2e1"}, "AccountSid": {sid}, "From": {demoPhone},
			"To": {bank}, "Body": {"Please call me about my time deposit"}, "NumMedia": {"0"}}

		// Forged: 403 and nothing stored.
		forged := twilioSign("not-the-token", public+path, inbound)
		if code, body := postForm(t, r.base+path, inbound, forged); code != http.StatusForbidden {
			t.Fatalf("forged signature: %d %s", code, body)
		}
		if items := d.conversations(); len(items) != 0 {
			t.Fatalf("a forged webhook stored %v", items)
		}
		// Over http.max_body_bytes: 413.
		big := url.Values{"Body": {strings.Repeat("x", 5000)}}
		if code, _ := postForm(t, r.base+path, big, twilioSign(authToken, public+path, big)); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("large webhook: %d, want 413", code)
		}
		// Signed, then retried by the provider: stored once.
		sig := twilioSign(authToken, public+path, inbound)
		for i := range 2 {
			if code, body := postForm(t, r.base+path, inbound, sig); code != http.StatusOK || !strings.Contains(body, "<Response/>") {
				t.Fatalf("signed webhook (attempt %d): %d %s", i+1, code, body)
			}
		}
		id := d.acceptOffer()
		msgs := d.messages(id)
		if len(msgs) != 1 || msgs[0]["direction"] != "inbound" || msgs[0]["text"] != "Please call me about my time deposit" ||
			msgs[0]["channel"] != "sms" || msgs[0]["channel_account"] != bank {
			t.Fatalf("stored messages %v", msgs)
		}
		if items := d.conversations(); len(items) != 1 {
			t.Fatalf("conversations %v", items)
		}

		code, out := d.reply(id, map[string]any{"text": "Certainly, I will call you at 3pm."})
		if code != http.StatusCreated {
			t.Fatalf("reply: %d %v", code, out)
		}
		sent := api.messages()
		if len(sent) != 1 {
			t.Fatalf("provider got %d messages", len(sent))
		}
		want := map[string]string{"To": demoPhone, "From": bank, "Body": "Certainly, I will call you at 3pm.",
			"StatusCallback": public + path + "/status"}
		for k, v := range want {
			if got := sent[0].Get(k); got != v {
				t.Errorf("provider got %s=%q, want %q", k, got, v)
			}
		}
		status := url.Values{"MessageSid": {"SMfake1"}, "MessageStatus": {"delivered"}, "AccountSid": {sid}, "To": {demoPhone}, "From": {bank}}
		if code, body := postForm(t, r.base+path+"/status", status, twilioSign(authToken, public+path+"/status", status)); code != http.StatusNoContent {
			t.Fatalf("status callback: %d %s", code, body)
		}
		msgs = d.messages(id)
		if len(msgs) != 2 || msgs[1]["direction"] != "outbound" || msgs[1]["status"] != "delivered" {
			t.Fatalf("after the status callback: %v", msgs)
		}
		noPersonalData(t, logs, "sms received", "55500001", "time deposit", "3pm")
	})
}

// wechatCallback encrypts a text message from openid to the account as
// WeChat does in safe mode ("Message encryption and decryption") and
// returns the callback's query and body.
func wechatCallback(t *testing.T, appID, token, aesKey, originalID, openid, msgID, text string, now time.Time) (url.Values, string) {
	t.Helper()
	ts := strconv.FormatInt(now.Unix(), 10)
	plain := "<xml><ToUserName><![CDATA[" + originalID + "]]></ToUserName><FromUserName><![CDATA[" + openid +
		"]]></FromUserName><CreateTime>" + ts + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + text +
		"]]></Content><MsgId>" + msgID + "</MsgId></xml>"
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), appID, aesKey)
	if err != nil {
		t.Fatal(err)
	}
	nonce := "n" + msgID
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {openid}, "encrypt_type": {"aes"},
		"signature": {util.Signature(token, ts, nonce)}, "msg_signature": {util.Signature(token, ts, nonce, string(enc))}}
	return q, "<xml><ToUserName><![CDATA[" + originalID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
}

// TestWeChatEndToEnd: a safe-mode encrypted text from the demo client's
// openid is answered "success" only once it is stored (a retry is stored
// once, a forged msg_signature gets 403 and stores nothing), routed to
// the client's own RM, and the RM's reply goes out through the fake WeChat
// API's token and customer-service endpoints; when WeChat says the service
// window is closed, the reply goes as the account's template message.
func TestWeChatEndToEnd(t *testing.T) {
	t.Parallel()
	const (
		appID      = "wxe2e0000000000001"
		secret     = "e2e-wechat-secret"
		token      = "e2eToken123"
		originalID = "gh_e2e000000001"
	)
	key := make([]byte, 32)
	copy(key, "airbranch end-to-end aes key 32b")
	aesKey := strings.TrimSuffix(base64.StdEncoding.EncodeToString(key), "=")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		api := newFakeWeChat(t, appID, secret)
		cfg.WeChat.Accounts = []configs.WeChatAccount{{OriginalID: originalID, SafeModeOnly: true}}
		cfg.WeChat.Accounts[0].Template.TemplateID = "tpl-rm-reply"
		cfg.WeChat.Accounts[0].Template.Data = map[string]string{"first": "Your relationship manager wrote", "keyword1": "{text}"}
		cfg.WeChat.APIBaseURL = api.srv.URL
		cfg.Secrets.WeChatAppID, cfg.Secrets.WeChatSecret, cfg.Secrets.WeChatToken, cfg.Secrets.WeChatAESKey = appID, secret, token, aesKey
		logs := &syncBuffer{}
		r := start(t, cfg, logs)
		d := newDesk(t, r)
		post := func(q url.Values, body string) (int, string) {
			req, _ := http.NewRequest(http.MethodPost, r.base+"/webhooks/wechat?"+q.Encode(), strings.NewReader(body))
			req.Header.Set("Content-Type", "text/xml")
			return send(t, req)
		}
		q, body := wechatCallback(t, appID, token, aesKey, originalID, demoOpenID, "24680135792468013", "I would like to review my portfolio", time.Now())

		forged := url.Values{}
		for k, v := range q {
			forged[k] = v
		}
		forged.Set("msg_signature", util.Signature("wrong-token", q.Get("timestamp"), q.Get("nonce"), "x"))
		if code, _ := post(forged, body); code != http.StatusForbidden {
			t.Fatalf("forged msg_signature: %d, want 403", code)
		}
		if items := d.conversations(); len(items) != 0 {
			t.Fatalf("a forged callback stored %v", items)
		}
		for i := range 2 { // WeChat retries when it does not see "success" in time
			code, answer := post(q, body)
			if code != http.StatusOK || answer != "success" {
				t.Fatalf("callback (attempt %d): %d %q", i+1, code, answer)
			}
			// "success" came after the store: the message is there now.
			items := d.conversations()
			if len(items) != 1 {
				t.Fatalf("after success (attempt %d): conversations %v", i+1, items)
			}
			if msgs := d.messages(items[0].(map[string]any)["id"].(string)); len(msgs) != 1 || msgs[0]["text"] != "I would like to review my portfolio" {
				t.Fatalf("after success (attempt %d): messages %v", i+1, msgs)
			}
		}
		id := d.acceptOffer()
		if code, out := d.reply(id, map[string]any{"text": "Of course. Shall we meet on video at 4pm?"}); code != http.StatusCreated {
			t.Fatalf("reply: %d %v", code, out)
		}
		custom, _ := api.sent()
		if len(custom) != 1 || custom[0]["touser"] != demoOpenID || custom[0]["msgtype"] != "text" ||
			custom[0]["text"].(map[string]any)["content"] != "Of course. Shall we meet on video at 4pm?" {
			t.Fatalf("custom sends %v", custom)
		}
		if rs, ok := r.g.store.(*state.Redis); ok { // the adapter's state (window, shared token) is on the store's Redis
			prefix := strings.TrimSuffix(rs.KeyPrefix(), ":")
			n, err := rs.Client().Exists(context.Background(), prefix+":wechat:win:"+originalID+":"+demoOpenID, prefix+":wechat:token:"+appID).Result()
			if err != nil || n != 2 {
				t.Fatalf("service window and token keys on Redis: %d, %v", n, err)
			}
		}

		// WeChat refuses: the window is closed. The reply goes as the template.
		api.refuseCustomSends(45015)
		code, out := d.reply(id, map[string]any{"text": "I have sent you the report."})
		if code != http.StatusCreated {
			t.Fatalf("reply outside the window: %d %v", code, out)
		}
		_, templates := api.sent()
		if len(templates) != 1 || templates[0]["touser"] != demoOpenID || templates[0]["template_id"] != "tpl-rm-reply" ||
			templates[0]["client_msg_id"] != out["message"].(map[string]any)["id"] {
			t.Fatalf("template sends %v", templates)
		}
		if v := templates[0]["data"].(map[string]any)["keyword1"].(map[string]any)["value"]; v != "I have sent you the report." {
			t.Fatalf("template keyword1 = %v", v)
		}
		// Attachments are refused with a code the RM sees.
		code, out = d.reply(id, map[string]any{"text": "statement", "attachments": []map[string]any{{"type": "application/pdf", "ref": "https://files.bank.example/s.pdf"}}})
		if code != http.StatusBadGateway || out["message"].(map[string]any)["error_code"] != CodeAttachmentsUnsupported {
			t.Fatalf("reply with an attachment: %d %v", code, out)
		}
		noPersonalData(t, logs, "wechat callback stored", demoOpenID, "portfolio", "4pm")
	})
}

// TestSMPPEndToEnd: with the SMSC refusing binds /readyz stays 200 but
// degraded; once bound, a deliver_sm from the demo client opens a
// conversation offered to their own RM, whose reply goes out as submit_sm
// from the bank's number and is moved to delivered by the SMSC's receipt.
// An attachment is refused: SMPP carries text only.
func TestSMPPEndToEnd(t *testing.T) {
	t.Parallel()
	const bank = "+85230009999"
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		smsc, err := smsctest.New(smsctest.Config{SystemID: "airbranch", Password: "smpp-pw"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = smsc.Close() })
		smsc.RefuseBinds(data.ESME_RBINDFAIL)
		s := &cfg.SMS.SMPP
		s.Addr, s.SystemID, s.Account = smsc.Addr(), "airbranch", bank
		s.RebindMin, s.RebindMax, s.EnquireLink, s.ReadTimeout, s.SubmitTimeout = 20*time.Millisecond, 100*time.Millisecond, time.Second, 5*time.Second, 5*time.Second
		cfg.Secrets.SMPPPassword = "smpp-pw"
		logs := &syncBuffer{}
		r := start(t, cfg, logs)
		ready := func() (int, map[string]any) {
			resp, err := http.Get(r.base + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		if code, body := ready(); code != http.StatusOK || body["status"] != "degraded" || body["channels"].(map[string]any)["sms.smpp"] != "not_bound" {
			t.Fatalf("readyz with binds refused: %d %v", code, body)
		}
		smsc.RefuseBinds(data.ESME_ROK)
		waitFor(t, "the SMPP bind", func() bool {
			code, body := ready()
			return code == http.StatusOK && body["status"] == "ready" && body["channels"].(map[string]any)["sms.smpp"] == "bound"
		})
		if resp, err := http.Get(r.base + "/metrics"); err != nil {
			t.Fatal(err)
		} else {
			var b strings.Builder
			_, _ = io.Copy(&b, resp.Body)
			resp.Body.Close()
			if !strings.Contains(b.String(), `airbranch_channel_link_up{account="`+bank+`",channel="sms",provider="smpp"} 1`) {
				t.Errorf("metrics lack the bound SMPP link:\n%s", b.String())
			}
		}
		d := newDesk(t, r)

		mo, err := smsctest.MO(demoPhone, bank, "Can you move my FX order to tomorrow?")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if st, err := smsc.Deliver(ctx, mo); err != nil || st != data.ESME_ROK {
			t.Fatalf("deliver_sm: %v %v", st, err)
		}
		id := d.acceptOffer()
		if msgs := d.messages(id); len(msgs) != 1 || msgs[0]["text"] != "Can you move my FX order to tomorrow?" || msgs[0]["channel_account"] != bank {
			t.Fatalf("stored messages %v", msgs)
		}
		code, out := d.reply(id, map[string]any{"text": "Done: your FX order now runs tomorrow."})
		if code != http.StatusCreated {
			t.Fatalf("reply: %d %v", code, out)
		}
		subs := smsc.Submits()
		if len(subs) != 1 || subs[0].DestAddr != strings.TrimPrefix(demoPhone, "+") || subs[0].SourceAddr != strings.TrimPrefix(bank, "+") ||
			subs[0].DataCoding != 0 || string(subs[0].Payload) != "Done: your FX order now runs tomorrow." {
			t.Fatalf("submit_sm %+v", subs)
		}
		rcpt, err := smsctest.Receipt(demoPhone, bank, subs[0].ID, "DELIVRD", "000", true, smsctest.StateDelivered, true)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := smsc.Deliver(ctx, rcpt); err != nil || st != data.ESME_ROK {
			t.Fatalf("receipt: %v %v", st, err)
		}
		if msgs := d.messages(id); len(msgs) != 2 || msgs[1]["status"] != "delivered" {
			t.Fatalf("after the receipt: %v", msgs)
		}
		code, out = d.reply(id, map[string]any{"text": "your statement", "attachments": []map[string]any{{"type": "application/pdf", "ref": "https://files.bank.example/s.pdf"}}})
		if code != http.StatusBadGateway || out["message"].(map[string]any)["error_code"] != CodeAttachmentsUnsupported || len(smsc.Submits()) != 1 {
			t.Fatalf("reply with an attachment: %d %v", code, out)
		}
		noPersonalData(t, logs, "sms sent", "55500001", "FX order")
	})
}

// senderFunc is an sms.Sender made of a function.
type senderFunc func(ctx context.Context, m sms.Outbound) (conversation.Sent, error)

func (f senderFunc) Send(ctx context.Context, m sms.Outbound) (conversation.Sent, error) {
	return f(ctx, m)
}

// TestSMSSenderRoutesAndRefuses: a message goes to the provider serving
// its conversation's account, as an sms.Outbound; what the channel cannot
// carry is refused before any provider call with ErrCannotCarry and a code.
func TestSMSSenderRoutesAndRefuses(t *testing.T) {
	t.Parallel()
	var got []sms.Outbound
	provider := senderFunc(func(_ context.Context, m sms.Outbound) (conversation.Sent, error) {
		got = append(got, m)
		return conversation.Sent{ProviderIDs: []string{"p1"}, Status: conversation.DeliverySent}, nil
	})
	s := &smsSender{accounts: map[string]smsRoute{"+85230001234": {sender: provider, media: true}, "95566": {sender: provider}}}
	phone := conversation.Address{Kind: conversation.AddressPhone, Value: demoPhone}
	pdf := []conversation.Attachment{{Type: "application/pdf", Ref: "https://files.bank.example/s.pdf"}}
	tests := []struct {
		name    string
		account string
		to      conversation.Address
		atts    []conversation.Attachment
		code    string // "" when sent
	}{
		{"text on twilio", "+85230001234", phone, nil, ""},
		{"mms on twilio", "+85230001234", phone, pdf, ""},
		{"media that is not a url", "+85230001234", phone, []conversation.Attachment{{Type: "image/png", Ref: "s3://bucket/key"}}, CodeAttachmentNotURL},
		{"text on smpp", "95566", phone, nil, ""},
		{"attachment on smpp", "95566", phone, pdf, CodeAttachmentsUnsupported},
		{"unknown account", "+85239999999", phone, nil, CodeUnknownAccount},
		{"openid address", "95566", conversation.Address{Kind: conversation.AddressWeChat, Value: demoOpenID}, nil, CodeWrongAddress},
	}
	for _, tt := range tests {
		got = nil
		m := conversation.Message{ID: "msg-1", Channel: conversation.ChannelSMS, ChannelAccount: tt.account, Text: "hello", Attachments: tt.atts}
		_, err := s.Send(context.Background(), m, tt.to)
		var pe *conversation.ProviderError
		switch {
		case tt.code == "" && (err != nil || len(got) != 1 || got[0].Account != tt.account || got[0].To != demoPhone || got[0].Text != "hello" || len(got[0].Attachments) != len(tt.atts)):
			t.Errorf("%s: err %v, provider got %+v", tt.name, err, got)
		case tt.code != "" && (!errors.Is(err, ErrCannotCarry) || !errors.As(err, &pe) || pe.Code != tt.code || len(got) != 0):
			t.Errorf("%s: err %v (provider got %d), want ErrCannotCarry with code %s", tt.name, err, len(got), tt.code)
		}
	}
}
