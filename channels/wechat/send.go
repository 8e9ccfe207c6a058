package wechat

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// customMessage is the body of cgi-bin/message/custom/send ("Customer
// service messages", send); silenceper's message.CustomerMessage has the
// same JSON (checked in tests).
type customMessage struct {
	ToUser  string       `json:"touser"`
	MsgType string       `json:"msgtype"`
	Text    *customText  `json:"text,omitempty"`
	Image   *customMedia `json:"image,omitempty"`
}

type customText struct {
	Content string `json:"content"`
}

type customMedia struct {
	MediaID string `json:"media_id"`
}

// sendAnswer is the answer of the send APIs; msgid is given by the
// template API (and by newer custom-send answers).
type sendAnswer struct {
	MsgID int64 `json:"msgid"`
}

// uploadAnswer is the answer of cgi-bin/media/upload.
type uploadAnswer struct {
	Type    string `json:"type"`
	MediaID string `json:"media_id"`
}

// templateMessage is the body of cgi-bin/message/template/send.
type templateMessage struct {
	ToUser      string                  `json:"touser"`
	TemplateID  string                  `json:"template_id"`
	URL         string                  `json:"url,omitempty"`
	Data        map[string]templateItem `json:"data"`
	ClientMsgID string                  `json:"client_msg_id,omitempty"`
}

type templateItem struct {
	Value string `json:"value"`
}

// Window reports the customer-service window of openid on the account
// (original id) at now: whether a reply is allowed, how many messages are
// left, and when the window closes (see Windows.Window).
func (a *Adapter) Window(ctx context.Context, account, openid string, now time.Time) (open bool, remaining int, closesAt time.Time, err error) {
	if _, err := a.accountByID(account); err != nil {
		return false, 0, time.Time{}, err
	}
	return a.windows.Window(ctx, account, openid, now)
}

// SendText sends text to the user through the customer-service API
// (msgtype text). Before calling WeChat it refuses an opted-out user
// (conversation.ErrOptedOut) and a closed window or used quota
// (ErrWindowClosed / ErrQuotaUsed with a ProviderError of code 45015 /
// 45047). WeChat's refusals come back as *conversation.ProviderError, and
// 45015 / 45047 also match ErrWindowClosed / ErrQuotaUsed. A rejected
// access token (40001, 40014, 42001) is refreshed and the send retried
// once. account is the original id.
func (a *Adapter) SendText(ctx context.Context, account string, to conversation.Address, text string) (conversation.Sent, error) {
	if strings.TrimSpace(text) == "" {
		return conversation.Sent{}, fmt.Errorf("wechat: send text: %w: empty text", conversation.ErrInvalid)
	}
	acct, err := a.outboundTarget(ctx, account, to)
	if err != nil {
		return conversation.Sent{}, err
	}
	msg := customMessage{ToUser: to.Value, MsgType: "text", Text: &customText{Content: text}}
	return a.sendCustom(ctx, acct, to, "send text", func(context.Context) (customMessage, error) { return msg, nil })
}

// SendImage uploads an image as a temporary asset (cgi-bin/media/upload,
// type image: bmp, png, jpeg, jpg or gif, at most Config.MaxImageBytes)
// and sends it through the customer-service API (msgtype image). name is
// the file name, whose extension WeChat checks. Errors as SendText;
// conversation.ErrInvalid for an empty, oversized or wrongly named image.
func (a *Adapter) SendImage(ctx context.Context, account string, to conversation.Address, name string, image []byte) (conversation.Sent, error) {
	switch ext := strings.ToLower(path.Ext(name)); {
	case len(image) == 0 || int64(len(image)) > a.cfg.MaxImageBytes:
		return conversation.Sent{}, fmt.Errorf("wechat: send image: %w: %d bytes (allowed 1 to %d)", conversation.ErrInvalid, len(image), a.cfg.MaxImageBytes)
	case ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".gif" && ext != ".bmp":
		return conversation.Sent{}, fmt.Errorf("wechat: send image: %w: file name %q (allowed: .jpg .jpeg .png .gif .bmp)", conversation.ErrInvalid, name)
	}
	acct, err := a.outboundTarget(ctx, account, to)
	if err != nil {
		return conversation.Sent{}, err
	}
	build := func(ctx context.Context) (customMessage, error) {
		var up uploadAnswer
		err := acct.withToken(ctx, func(tok string) error {
			return a.api.postFile(ctx, "/cgi-bin/media/upload", tokenQuery(tok, "type", "image"), path.Base(name), image, &up)
		})
		if err == nil && up.MediaID == "" {
			err = errors.New("wechat api /cgi-bin/media/upload: answer without media_id")
		}
		return customMessage{ToUser: to.Value, MsgType: "image", Image: &customMedia{MediaID: up.MediaID}}, err
	}
	return a.sendCustom(ctx, acct, to, "send image", build)
}

// outboundTarget checks the account, the address kind and the opt-out.
func (a *Adapter) outboundTarget(ctx context.Context, account string, to conversation.Address) (*account, error) {
	acct, err := a.accountByID(account)
	if err != nil {
		return nil, err
	}
	if to.Kind != conversation.AddressWeChat || to.Value == "" {
		return nil, fmt.Errorf("wechat: send to %s: %w: need a wechat_openid address", to, conversation.ErrInvalid)
	}
	out, err := a.supp.Suppressed(ctx, account, to.Value)
	if err != nil {
		return nil, fmt.Errorf("wechat: send: opt-out lookup: %w", err)
	}
	if out {
		return nil, fmt.Errorf("wechat: send to %s: %w", to, conversation.ErrOptedOut)
	}
	return acct, nil
}

// sendCustom takes one message from the window, builds the message (which
// may upload media) and sends it. A message WeChat did not count is given
// back; 45015 closes the window record and 45047 marks it used.
func (a *Adapter) sendCustom(ctx context.Context, acct *account, to conversation.Address, op string,
	build func(ctx context.Context) (customMessage, error)) (conversation.Sent, error) {
	id, openid, now := acct.cfg.OriginalID, to.Value, a.now()
	trig, err := a.windows.Take(ctx, id, openid, now)
	if errors.Is(err, ErrWindowClosed) || errors.Is(err, ErrQuotaUsed) {
		a.log.Info("wechat send refused by the window", "account", id, "to", to, "err", err.Error())
		return conversation.Sent{}, localWindowError(op, err)
	}
	if err != nil {
		return conversation.Sent{}, fmt.Errorf("wechat: %s: window: %w", op, err)
	}
	msg, err := build(ctx)
	var ans sendAnswer
	if err == nil {
		err = acct.withToken(ctx, func(tok string) error {
			return a.api.postJSON(ctx, "/cgi-bin/message/custom/send", tokenQuery(tok), msg, &ans)
		})
	}
	if err != nil {
		a.afterRefusal(ctx, id, openid, trig, now, err)
		a.log.Warn("wechat send failed", "account", id, "to", to, "msg_type", msg.MsgType, "err", err.Error())
		return conversation.Sent{}, sendError(op, err)
	}
	a.log.Info("wechat message sent", "account", id, "to", to, "msg_type", msg.MsgType)
	return conversation.Sent{ProviderIDs: []string{a.providerID(ans.MsgID, "cs-")}, Status: conversation.DeliverySent}, nil
}

// afterRefusal updates the window record after a failed send.
func (a *Adapter) afterRefusal(ctx context.Context, account, openid string, trig Trigger, now time.Time, err error) {
	var ae *APIError
	errors.As(err, &ae)
	var werr error
	switch {
	case ae != nil && ae.Code == codeWindowClosed:
		werr = a.windows.Close(ctx, account, openid)
	case ae != nil && ae.Code == codeQuotaUsed:
		werr = a.windows.Exhaust(ctx, account, openid)
	default:
		werr = a.windows.Give(context.WithoutCancel(ctx), account, openid, trig, now)
	}
	if werr != nil {
		a.log.Warn("wechat window update after a failed send", "account", account, "err", werr.Error())
	}
}

// providerID is WeChat's msgid, or a local id when WeChat gives none (the
// custom-send answer usually carries only errcode and errmsg).
func (a *Adapter) providerID(msgID int64, prefix string) string {
	if msgID != 0 {
		return strconv.FormatInt(msgID, 10)
	}
	return prefix + conversation.NewUUIDv7(a.now())
}

// SendTemplate sends the account's configured template message (not
// limited by the service window), with "{text}" in its data values
// replaced by text. clientMsgID, when set, lets WeChat drop a repeated
// send (client_msg_id). The returned provider id is WeChat's msgid, under
// which the TEMPLATESENDJOBFINISH report arrives as a StatusUpdate.
// Errors: ErrNoTemplate, conversation.ErrOptedOut, ProviderError.
func (a *Adapter) SendTemplate(ctx context.Context, account string, to conversation.Address, text, clientMsgID string) (conversation.Sent, error) {
	acct, err := a.outboundTarget(ctx, account, to)
	if err != nil {
		return conversation.Sent{}, err
	}
	tc := acct.cfg.Template
	if tc.TemplateID == "" {
		return conversation.Sent{}, fmt.Errorf("wechat: send template on %s: %w", account, ErrNoTemplate)
	}
	msg := templateMessage{ToUser: to.Value, TemplateID: tc.TemplateID, URL: tc.URL, ClientMsgID: clientMsgID,
		Data: make(map[string]templateItem, len(tc.Data))}
	for k, v := range tc.Data {
		msg.Data[k] = templateItem{Value: strings.ReplaceAll(v, "{text}", text)}
	}
	var ans sendAnswer
	err = acct.withToken(ctx, func(tok string) error {
		return a.api.postJSON(ctx, "/cgi-bin/message/template/send", tokenQuery(tok), msg, &ans)
	})
	if err != nil {
		a.log.Warn("wechat template send failed", "account", account, "to", to, "err", err.Error())
		return conversation.Sent{}, sendError("send template", err)
	}
	a.log.Info("wechat template message sent", "account", account, "to", to)
	return conversation.Sent{ProviderIDs: []string{a.providerID(ans.MsgID, "tpl-")}, Status: conversation.DeliverySent}, nil
}
