package wechat

import (
	"encoding/json"
	"encoding/xml"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// TestCallbackMatchesSilenceper decodes every fixture with our callback
// type and with silenceper's message.MixMessage: the fields we map agree.
func TestCallbackMatchesSilenceper(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/plain/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	for _, f := range files {
		body := fixture(t, strings.TrimPrefix(f, "testdata/"))
		cb, err := parseCallback(body)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var mm message.MixMessage
		if err := xml.Unmarshal(body, &mm); err != nil {
			t.Fatalf("%s: silenceper: %v", f, err)
		}
		msgID := ""
		if mm.MsgID != 0 {
			msgID = strconv.FormatInt(mm.MsgID, 10)
		}
		pairs := []struct{ name, ours, theirs string }{
			{"ToUserName", cb.ToUserName, string(mm.ToUserName)},
			{"FromUserName", cb.FromUserName, string(mm.FromUserName)},
			{"CreateTime", strconv.FormatInt(cb.CreateTime, 10), strconv.FormatInt(mm.CreateTime, 10)},
			{"MsgType", cb.MsgType, string(mm.MsgType)},
			{"MsgId", cb.MsgID, msgID},
			{"Content", cb.Content, mm.Content},
			{"PicUrl", cb.PicURL, mm.PicURL},
			{"MediaId", cb.MediaID, mm.MediaID},
			{"Format", cb.Format, mm.Format},
			{"Recognition", cb.Recognition, mm.Recognition},
			{"ThumbMediaId", cb.ThumbMediaID, mm.ThumbMediaID},
			{"Label", cb.Label, mm.Label},
			{"Title", cb.Title, mm.Title},
			{"Url", cb.URL, mm.URL},
			{"Event", cb.Event, string(mm.Event)},
			{"EventKey", cb.EventKey, mm.EventKey},
			{"Status", cb.Status, mm.Status},
		}
		for _, p := range pairs {
			if p.ours != p.theirs {
				t.Errorf("%s %s: ours %q, silenceper %q", f, p.name, p.ours, p.theirs)
			}
		}
		if mm.TemplateMsgID != 0 && cb.TemplateMsgID != strconv.FormatInt(mm.TemplateMsgID, 10) {
			t.Errorf("%s MsgID: ours %q, silenceper %d", f, cb.TemplateMsgID, mm.TemplateMsgID)
		}
	}
}

// TestCustomMessageMatchesSilenceper: our customer-service bodies are the
// JSON silenceper's message.CustomerMessage produces.
func TestCustomMessageMatchesSilenceper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ours   customMessage
		theirs *message.CustomerMessage
	}{
		{customMessage{ToUser: "o1", MsgType: "text", Text: &customText{Content: "hi"}}, message.NewCustomerTextMessage("o1", "hi")},
		{customMessage{ToUser: "o1", MsgType: "image", Image: &customMedia{MediaID: "m1"}}, message.NewCustomerImgMessage("o1", "m1")},
	}
	for _, tt := range tests {
		var a, b any
		ja, _ := json.Marshal(tt.ours)
		jb, _ := json.Marshal(tt.theirs)
		_ = json.Unmarshal(ja, &a)
		_ = json.Unmarshal(jb, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("ours %s, silenceper %s", ja, jb)
		}
	}
}

// TestNoGoRedisV8 keeps the adapter's own dependencies free of go-redis v8
// (which silenceper's cache, credential and officialaccount packages
// import) and of silenceper packages other than util.
func TestNoGoRedisV8(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/go-redis/redis/v8") ||
			strings.HasPrefix(dep, "github.com/silenceper/wechat/v2/") && dep != "github.com/silenceper/wechat/v2/util" {
			t.Errorf("the wechat package depends on %s", dep)
		}
	}
}
