package wechat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// MediaRefPrefix starts an Attachment.Ref that is a WeChat media id, to be
// fetched within 3 days through cgi-bin/media/get ("Getting temporary
// assets"), e.g. "wechat-media:AQrb7Sk-JYMg…".
const MediaRefPrefix = "wechat-media:"

// Event names of the Incomings the adapter produces for WeChat events.
// Events without a name here keep WeChat's name in lower case (e.g.
// "location", "view_miniprogram").
const (
	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventMenuClick   = "menu_click"
	EventMenuView    = "menu_view"
	EventScan        = "scan"
)

// Trigger names the user interaction that opened a window grant.
type Trigger string

// Triggers, per WeChat's "Customer service messages" rules.
const (
	TriggerMessage   Trigger = "message"
	TriggerMenuClick Trigger = "menu_click"
	TriggerSubscribe Trigger = "subscribe"
	TriggerScan      Trigger = "scan"
)

// inbound is a normalised callback: the Incoming for the Sink, or a status
// report, and the effects it has on windows and opt-outs.
type inbound struct {
	in      conversation.Incoming
	status  *conversation.StatusUpdate // TEMPLATESENDJOBFINISH only
	trigger Trigger                    // "" when the callback opens no window
	at      time.Time                  // CreateTime
	optOut  bool                       // unsubscribe
	optIn   bool                       // subscribe
	wantsHi bool                       // subscribe: send the welcome reply
}

// normalize maps a callback to what the adapter stores. The account has
// already been checked against ToUserName.
func (a *account) normalize(cb callback, now time.Time) inbound {
	at := time.Unix(cb.CreateTime, 0)
	in := conversation.Incoming{
		Channel:        conversation.ChannelWeChat,
		ChannelAccount: a.cfg.OriginalID,
		From:           conversation.Address{Kind: conversation.AddressWeChat, Value: cb.FromUserName},
		ReceivedAt:     now,
	}
	out := inbound{at: at}
	if cb.MsgType != "event" {
		in.Kind = conversation.IncomingMessage
		in.ProviderID = cb.MsgID
		if in.ProviderID == "" {
			in.ProviderID = eventKey(cb.FromUserName, cb.CreateTime, "msg:"+cb.MsgType)
		}
		in.Text, in.Attachments = messageBody(cb)
		out.trigger = TriggerMessage
		out.in = in
		return out
	}

	in.Kind = conversation.IncomingEvent
	in.ProviderID = eventKey(cb.FromUserName, cb.CreateTime, cb.Event)
	in.Text = cb.EventKey
	switch cb.Event {
	case "subscribe":
		in.Event = EventSubscribe // EventKey "qrscene_<scene>" kept in Text
		out.trigger, out.optIn, out.wantsHi = TriggerSubscribe, true, true
	case "unsubscribe":
		in.Event = EventUnsubscribe
		out.optOut = true
	case "CLICK":
		in.Event = EventMenuClick
		if mi, ok := a.cfg.MenuIntents[cb.EventKey]; ok {
			in.Intent, in.StartConversation = mi.Intent, mi.StartConversation
		}
		out.trigger = TriggerMenuClick
	case "scancode_push", "scancode_waitmsg":
		in.Event = strings.ToLower(cb.Event)
		out.trigger = TriggerMenuClick // WeChat counts these menu types as a click
	case "VIEW":
		in.Event = EventMenuView
	case "SCAN":
		in.Event = EventScan
		out.trigger = TriggerScan
	case "LOCATION":
		in.Event = "location"
		in.Text = fmt.Sprintf("location %s,%s precision %s", cb.Latitude, cb.Longitude, cb.Precision)
	case "TEMPLATESENDJOBFINISH":
		out.status = templateStatus(a.cfg.OriginalID, cb, now)
		in.Event = "templatesendjobfinish"
	default:
		in.Event = strings.ToLower(cb.Event)
	}
	out.in = in
	return out
}

// eventKey is the idempotency key of an event: WeChat retries an event
// with the same FromUserName, CreateTime and Event. The openid is hashed
// so that the key, which is logged, carries no personal data.
func eventKey(openid string, createTime int64, event string) string {
	h := sha256.Sum256([]byte(openid + "|" + strconv.FormatInt(createTime, 10) + "|" + event))
	return "ev-" + hex.EncodeToString(h[:16])
}

// messageBody gives a message's text and attachments:
//   - text: Content;
//   - image: the picture twice, by media id and by PicUrl;
//   - voice: the media (type audio/<Format>), and Recognition as text;
//   - video, shortvideo: the media (and its thumbnail by media id);
//   - location: "location <lat>,<lon> scale <n>: <label>";
//   - link: title, description and URL on three lines;
//   - any other type: "[wechat <type> message]".
func messageBody(cb callback) (string, []conversation.Attachment) {
	media := func(typ, id, name string) []conversation.Attachment {
		if id == "" {
			return nil
		}
		return []conversation.Attachment{{Type: typ, Ref: MediaRefPrefix + id, Name: name}}
	}
	switch cb.MsgType {
	case "text":
		return cb.Content, nil
	case "image":
		att := media("image", cb.MediaID, "image")
		if cb.PicURL != "" {
			att = append(att, conversation.Attachment{Type: "image", Ref: cb.PicURL, Name: "image"})
		}
		return "", att
	case "voice":
		typ := "voice"
		if f := strings.ToLower(strings.TrimSpace(cb.Format)); f != "" {
			typ = "audio/" + f
		}
		return strings.TrimSpace(cb.Recognition), media(typ, cb.MediaID, "voice")
	case "video", "shortvideo":
		return "", append(media("video", cb.MediaID, cb.MsgType), media("image", cb.ThumbMediaID, "thumbnail")...)
	case "location":
		return fmt.Sprintf("location %s,%s scale %s: %s", cb.LocationX, cb.LocationY, cb.Scale, cb.Label), nil
	case "link":
		return strings.Join([]string{cb.Title, cb.Description, cb.URL}, "\n"), nil
	default:
		return fmt.Sprintf("[wechat %s message]", cb.MsgType), nil
	}
}

// templateStatus maps a TEMPLATESENDJOBFINISH event ("Template message
// interface", event push after sending) to a delivery report: "success" →
// delivered; "failed:user block" → failed "user_block"; "failed: system
// failed" → failed "system_failed".
func templateStatus(account string, cb callback, now time.Time) *conversation.StatusUpdate {
	u := &conversation.StatusUpdate{
		Channel:        conversation.ChannelWeChat,
		ChannelAccount: account,
		ProviderID:     cb.TemplateMsgID,
		Status:         conversation.DeliveryDelivered,
		At:             now,
	}
	if s := strings.TrimSpace(cb.Status); s != "success" {
		u.Status = conversation.DeliveryFailed
		reason := strings.TrimSpace(strings.TrimPrefix(s, "failed:"))
		u.ErrorCode = strings.ReplaceAll(strings.ToLower(reason), " ", "_")
		if u.ErrorCode == "" {
			u.ErrorCode = "failed"
		}
	}
	return u
}
