package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// officialSample is the safe-mode callback of Tencent's official
// WXBizMsgCrypt sample (the project's copy, with its source, in
// channels/wechat/testdata/vectors).
type officialSample struct {
	Token, AppID string
	AESKey       string `json:"encoding_aes_key"`
	Timestamp    string
	Nonce        string
	MsgSignature string `json:"msg_signature"`
	Body         string
	Encrypt      string
}

// TestWeChatOfficialSample: the official account encryption sample's
// callback, posted as published (its timestamp is from 2014), is refused
// as a replay and stores nothing; the same message (decrypted with the
// sample's EncodingAESKey, the suite's account being the sample's) sent
// again now (its CreateTime too), encrypted afresh, comes from an openid the bank does not
// know: a prospect, served by the mass team, answered on WeChat.
func TestWeChatOfficialSample(t *testing.T) {
	c := need(t)
	raw, err := os.ReadFile("../channels/wechat/testdata/vectors/mp-official-sample-spamtest.json")
	if err != nil {
		t.Fatal(err)
	}
	var s officialSample
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Token != wechatToken || s.AppID != wechatAppID || s.AESKey != wechatAESKey {
		t.Fatalf("the suite's WeChat account is not the sample's (%s, %s)", s.Token, s.AppID)
	}
	q := url.Values{"timestamp": {s.Timestamp}, "nonce": {s.Nonce}, "encrypt_type": {"aes"}, "msg_signature": {s.MsgSignature},
		"signature": {util.Signature(s.Token, s.Timestamp, s.Nonce)}}
	if a := postUntilAcked(c.URL()+"/webhooks/wechat?"+q.Encode(), "text/xml", s.Body, nil); a.Acked || a.Statuses[len(a.Statuses)-1] != http.StatusForbidden {
		t.Fatalf("the published sample (timestamp %s) was answered %v, want 403 (stale)", s.Timestamp, a.Statuses)
	}

	_, plain, err := util.DecryptMsg(s.AppID, s.Encrypt, s.AESKey)
	if err != nil {
		t.Fatal(err)
	}
	const openid = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
	if !strings.Contains(string(plain), openid) || !strings.Contains(string(plain), "abcdteT") {
		t.Fatalf("decrypted sample %q", plain)
	}
	// Sent now: its CreateTime too (the service window counts from it).
	plain = []byte(strings.Replace(string(plain), "<CreateTime>1409735668</CreateTime>", "<CreateTime>"+strconv.FormatInt(time.Now().Unix(), 10)+"</CreateTime>", 1))
	desks := []*desk{c.openDesk(t, "rm-ms-01", true, true), c.openDesk(t, "rm-ms-02", true, true)}
	enc, err := util.EncryptMsg([]byte("e2e-random-16byt"), plain, s.AppID, s.AESKey)
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := "e2esample"
	q = url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {openid}, "encrypt_type": {"aes"},
		"signature": {util.Signature(s.Token, ts, nonce)}, "msg_signature": {util.Signature(s.Token, ts, nonce, string(enc))}}
	body := "<xml><ToUserName><![CDATA[" + wechatOriginalID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	if a := postUntilAcked(c.URL()+"/webhooks/wechat?"+q.Encode(), "text/xml", body, nil); !a.Acked {
		t.Fatalf("the sample sent now: %v", a.Statuses)
	}
	adm := c.admin(t)
	var cv conv
	eventually(t, 30*time.Second, "the prospect's conversation assigned", func() error {
		var page struct {
			Items []conv `json:"items"`
		}
		if err := adm.get("/api/v1/conversations?channel=wechat&limit=500", &page); err != nil {
			return err
		}
		for _, l := range page.Items {
			got, err := adm.conversation(l.ID)
			if err != nil {
				return err
			}
			for _, m := range got.Messages {
				if m.Direction == "inbound" && m.Text == "abcdteT" {
					cv = got
				}
			}
		}
		if cv.ID == "" || cv.AssigneeID == "" {
			return fmt.Errorf("not assigned yet (%q)", cv.ID)
		}
		return nil
	})
	if cv.Segment != "mass" || cv.TeamID != "mass" || !slices.Contains([]string{"rm-ms-01", "rm-ms-02"}, cv.AssigneeID) {
		d, _ := adm.decisions(cv.ID)
		t.Fatalf("prospect's conversation: segment %s, team %s, assignee %s; decisions %q", cv.Segment, cv.TeamID, cv.AssigneeID, d)
	}
	eventually(t, 30*time.Second, "the reply on WeChat", func() error { return once(c.wechat.sentTo(openid), "re: abcdteT") })
	for _, d := range desks {
		if d.rm == cv.AssigneeID {
			if err := d.finish(cv.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}
