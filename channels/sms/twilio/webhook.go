package twilio

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

// emptyTwiML is the answer to an inbound message: no reply from the
// provider's side (TwiML, https://www.twilio.com/docs/messaging/twiml).
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// maxMedia is the most media a message may carry (Twilio: 10).
const maxMedia = 10

// signed reads a webhook's form body and checks its signature. It writes
// the error response itself and returns ok false when the account is not
// configured (404), the body is larger than MaxRequestBytes (413), the
// signature is missing or wrong (403) or the body is not a form (400).
func (p *Provider) signed(w http.ResponseWriter, r *http.Request) (Account, url.Values, bool) {
	acct, ok := p.accounts[r.PathValue("account")]
	if !ok {
		http.NotFound(w, r)
		return Account{}, nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			p.log.Warn("sms webhook body too large", "account", acct.Name, "limit_bytes", p.cfg.MaxRequestBytes)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return Account{}, nil, false
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return Account{}, nil, false
	}
	sig := r.Header.Get("X-Twilio-Signature")
	signedURL := p.cfg.PublicBaseURL + r.URL.RequestURI()
	form, formErr := url.ParseQuery(string(body))
	if sig == "" || !p.valid(signedURL, r.URL, body, form, formErr, sig) {
		p.log.Warn("sms webhook signature rejected", "account", acct.Name, "signature_present", sig != "", "remote_addr", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusForbidden)
		return Account{}, nil, false
	}
	if formErr != nil {
		http.Error(w, "body is not application/x-www-form-urlencoded", http.StatusBadRequest)
		return Account{}, nil, false
	}
	return acct, form, true
}

// valid checks sig over the URL and the form's parameters (the first
// value of each, sorted by name) as twilio-go's
// RequestValidator.ValidateBody does for a form body, but on the form
// already parsed: a signature over exactly signedURL is accepted by
// exactSigner (a subset of what twilio-go accepts), and any other goes to
// twilio-go's Validate, which also tries the URL with its default port
// added or removed. A body signed by its SHA-256 (bodySHA256 in the
// query) goes to ValidateBody whole. A body that is not a form does not
// verify.
func (p *Provider) valid(signedURL string, u *url.URL, body []byte, form url.Values, formErr error, sig string) bool {
	if u.RawQuery != "" && u.Query().Has("bodySHA256") {
		return p.validator.ValidateBody(signedURL, body, sig)
	}
	if formErr != nil {
		return false
	}
	if p.exact.matches(signedURL, form, sig) {
		return true
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		params[k] = v[0]
	}
	return p.validator.Validate(signedURL, params, sig)
}

// serveInbound handles an inbound message: verified, normalised, opt-out
// keywords applied, stored by the Sink, and only then answered 200.
func (p *Provider) serveInbound(w http.ResponseWriter, r *http.Request) {
	acct, form, ok := p.signed(w, r)
	if !ok {
		return
	}
	in, status, msg := p.incoming(acct, form)
	if status != 0 {
		p.log.Warn("sms webhook refused", "account", acct.Name, "status", status, "reason", msg)
		http.Error(w, msg, status)
		return
	}
	ctx := r.Context()
	if _, err := sms.ApplyOptOut(ctx, p.sup, &in, keyword(form, in.Text)); err != nil {
		p.log.Error("sms opt-out not recorded, provider will retry", "account", acct.Name, "incoming", in, "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	receipt, err := p.sink.Receive(ctx, in)
	if err != nil {
		status := sinkStatus(err)
		p.log.Log(ctx, levelFor(status), "sms inbound not stored", "account", acct.Name, "incoming", in, "status", status, "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	p.log.Info("sms received", "account", acct.Name, "incoming", in,
		"message_id", receipt.MessageID, "conversation_id", receipt.ConversationID, "duplicate", receipt.Duplicate)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, emptyTwiML)
}

// incoming builds the Incoming of a verified inbound form, or returns the
// HTTP status and reason to refuse it with.
func (p *Provider) incoming(acct Account, form url.Values) (conversation.Incoming, int, string) {
	from := form.Get("From")
	body, hasBody := form["Body"]
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsMessageSid")
	}
	switch {
	case from == "":
		return conversation.Incoming{}, http.StatusBadRequest, "missing From"
	case !hasBody:
		return conversation.Incoming{}, http.StatusBadRequest, "missing Body"
	case sid == "":
		return conversation.Incoming{}, http.StatusBadRequest, "missing MessageSid"
	}
	text := body[0]
	if utf8.RuneCountInString(text) > p.cfg.MaxTextRunes {
		return conversation.Incoming{}, http.StatusRequestEntityTooLarge, "Body longer than " + strconv.Itoa(p.cfg.MaxTextRunes) + " characters"
	}
	e164, err := p.numbers.Normalise(from)
	if err != nil {
		return conversation.Incoming{}, http.StatusBadRequest, "From is not a phone number"
	}
	media, err := attachments(form)
	if err != nil {
		return conversation.Incoming{}, http.StatusBadRequest, err.Error()
	}
	if text == "" && len(media) == 0 {
		return conversation.Incoming{}, http.StatusBadRequest, "empty Body and no media"
	}
	return conversation.Incoming{
		Kind:           conversation.IncomingMessage,
		Channel:        conversation.ChannelSMS,
		ChannelAccount: acct.Name,
		From:           conversation.Address{Kind: conversation.AddressPhone, Value: e164},
		ProviderID:     sid,
		Text:           text,
		Attachments:    media,
		Verification:   conversation.VerificationBasic,
		ReceivedAt:     conversation.Millis(p.now()),
	}, 0, ""
}

// attachments reads NumMedia and MediaUrlN / MediaContentTypeN.
func attachments(form url.Values) ([]conversation.Attachment, error) {
	raw := form.Get("NumMedia")
	if raw == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxMedia {
		return nil, errors.New("NumMedia is not a number from 0 to 10")
	}
	var out []conversation.Attachment
	for i := range n {
		ref := form.Get("MediaUrl" + strconv.Itoa(i))
		u, err := url.Parse(ref)
		if ref == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, errors.New("MediaUrl" + strconv.Itoa(i) + " missing or not an http(s) URL")
		}
		typ := form.Get("MediaContentType" + strconv.Itoa(i))
		if typ == "" {
			typ = "application/octet-stream"
		}
		out = append(out, conversation.Attachment{Type: typ, Ref: ref})
	}
	return out, nil
}

// keyword returns the opt-out keyword of a message: the provider's own
// OptOutType when it sends one (Twilio's Advanced Opt-Out: STOP, START,
// HELP), else what the text says.
func keyword(form url.Values, text string) sms.Keyword {
	switch form.Get("OptOutType") {
	case "STOP":
		return sms.KeywordOptOut
	case "START":
		return sms.KeywordOptIn
	}
	return sms.DetectKeyword(text)
}

// sinkStatus maps a Sink error to the HTTP status the provider sees:
// 503 for unavailable (it retries), 400 for invalid input, 500 otherwise.
func sinkStatus(err error) int {
	switch {
	case errors.Is(err, conversation.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, conversation.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
