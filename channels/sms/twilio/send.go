package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

// maxResponseBytes bounds how much of a REST answer is read.
const maxResponseBytes = 1 << 20

// messageResource is the part of a Message resource Send reads.
type messageResource struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// apiError is the REST API's error body, e.g.
// {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
// "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Send implements sms.Sender through the Messages REST API: POST
// {APIBaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json, form-encoded
// (To, From or MessagingServiceSid, Body, MediaUrl, StatusCallback), HTTP
// basic auth AccountSID:AuthToken.
//
// Before any call it refuses an unknown account (ErrUnknownAccount), an
// invalid message or one longer than MaxTextRunes (sms.ErrInvalidMessage,
// sms.ErrTooLong) and a suppressed recipient (sms.ErrSuppressed, so
// conversation.ErrOptedOut). On success it returns the MessageSid with
// status sent; status callbacks then arrive at StatusURL(account).
//
// A refusal by the API is a wrapped *conversation.ProviderError with the
// API's code (e.g. "21211" invalid To); code 21610 (recipient unsubscribed
// at the provider) also wraps sms.ErrSuppressed and puts the recipient on
// the suppression list. A network error, a timeout, 429 or 5xx wraps
// ErrUnreachable (conversation.ErrUnavailable): retry later.
func (p *Provider) Send(ctx context.Context, m sms.Outbound) (conversation.Sent, error) {
	acct, ok := p.accounts[m.Account]
	if !ok {
		return conversation.Sent{}, fmt.Errorf("twilio: send from %q: %w", m.Account, ErrUnknownAccount)
	}
	if err := sms.CheckSendable(ctx, p.sup, m); err != nil {
		return conversation.Sent{}, fmt.Errorf("twilio: %w", err)
	}
	if n := utf8.RuneCountInString(m.Text); n > p.cfg.MaxTextRunes {
		return conversation.Sent{}, fmt.Errorf("twilio: send to %s: %d characters: %w (at most %d)", conversation.MaskPhone(m.To), n, sms.ErrTooLong, p.cfg.MaxTextRunes)
	}
	form := url.Values{}
	form.Set("To", m.To)
	if acct.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", acct.MessagingServiceSID)
	} else {
		form.Set("From", acct.From)
	}
	if m.Text != "" {
		form.Set("Body", m.Text)
	}
	for _, a := range m.Attachments {
		form.Add("MediaUrl", a.Ref)
	}
	form.Set("StatusCallback", p.StatusURL(acct.Name))

	endpoint := p.cfg.APIBaseURL + "/2010-04-01/Accounts/" + url.PathEscape(p.cfg.AccountSID) + "/Messages.json"
	ctx, cancel := context.WithTimeout(ctx, p.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return conversation.Sent{}, fmt.Errorf("twilio: send: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(p.cfg.AccountSID, p.cfg.AuthToken)
	resp, err := p.http.Do(req)
	if err != nil {
		p.log.Warn("sms send failed", "outbound", m, "err", err)
		return conversation.Sent{}, fmt.Errorf("twilio: send to %s: %w: %v", conversation.MaskPhone(m.To), ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return conversation.Sent{}, fmt.Errorf("twilio: send to %s: read answer: %w: %v", conversation.MaskPhone(m.To), ErrUnreachable, err)
	}
	if resp.StatusCode/100 == 2 {
		var msg messageResource
		if err := json.Unmarshal(body, &msg); err != nil || msg.SID == "" {
			// The message may have gone out: report a provider error, not
			// an unavailability that would make the gateway send it again.
			return conversation.Sent{}, fmt.Errorf("twilio: send to %s: %w", conversation.MaskPhone(m.To),
				&conversation.ProviderError{Channel: conversation.ChannelSMS, Code: "http_" + strconv.Itoa(resp.StatusCode), Message: "answer without a message sid"})
		}
		p.log.Info("sms sent", "outbound", m, "provider_id", msg.SID, "provider_status", msg.Status)
		return conversation.Sent{ProviderIDs: []string{msg.SID}, Status: conversation.DeliverySent}, nil
	}
	return conversation.Sent{}, p.refusal(ctx, m, resp.StatusCode, body)
}

// refusal turns a non-2xx answer into Send's error.
func (p *Provider) refusal(ctx context.Context, m sms.Outbound, status int, body []byte) error {
	var ae apiError
	_ = json.Unmarshal(body, &ae)
	perr := &conversation.ProviderError{
		Channel:   conversation.ChannelSMS,
		Code:      "http_" + strconv.Itoa(status),
		Message:   http.StatusText(status),
		Retryable: status == http.StatusTooManyRequests || status >= 500,
	}
	if ae.Code != 0 {
		perr.Code = strconv.Itoa(ae.Code)
	}
	if ae.Message != "" {
		perr.Message = ae.Message
	}
	p.log.Warn("sms refused by provider", "outbound", m, "http_status", status, "error_code", perr.Code, "retryable", perr.Retryable)
	if perr.Retryable {
		return fmt.Errorf("twilio: send to %s: %w: %w", conversation.MaskPhone(m.To), ErrUnreachable, perr)
	}
	if perr.Code == CodeUnsubscribed {
		if err := p.sup.Suppress(ctx, m.Account, m.To); err != nil && !errors.Is(err, conversation.ErrInvalid) {
			p.log.Error("sms suppression not recorded", "outbound", m, "err", err)
		}
		return fmt.Errorf("twilio: send to %s: %w: %w", conversation.MaskPhone(m.To), sms.ErrSuppressed, perr)
	}
	return fmt.Errorf("twilio: send to %s: %w", conversation.MaskPhone(m.To), perr)
}
