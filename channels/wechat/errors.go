package wechat

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of the WeChat adapter. Callers match them with errors.Is.
var (
	// ErrWindowClosed: the user's customer-service window is closed (no
	// interaction within the window's duration, WeChat errcode 45015
	// "response out of time limit or subscription is canceled"). The RM can
	// use the account's template message instead (SendTemplate).
	ErrWindowClosed = errors.New("wechat service window closed")
	// ErrQuotaUsed: the window is open but its message quota is used
	// (WeChat errcode 45047 "out of response count limit"); it refills when
	// the user writes again.
	ErrQuotaUsed = errors.New("wechat service window quota used")
	// ErrUnknownAccount: no configured official account has that name or
	// original id.
	ErrUnknownAccount = errors.New("unknown wechat account")
	// ErrNoTemplate: SendTemplate on an account without a template message.
	ErrNoTemplate = errors.New("no wechat template message configured")
	// ErrConfig: the configuration is invalid; Validate joins one error per
	// problem, each naming its field.
	ErrConfig = errors.New("invalid wechat configuration")
	// ErrSignature: a callback's signature or msg_signature does not match.
	ErrSignature = errors.New("wechat signature mismatch")
	// ErrStale: a callback's timestamp is further from now than the allowed
	// skew.
	ErrStale = errors.New("wechat timestamp out of range")
)

// Errcodes of the WeChat API ("Global return codes") the adapter acts on.
const (
	codeInvalidCredential = 40001 // access_token invalid or not the latest
	codeInvalidToken      = 40014 // access_token malformed
	codeTokenExpired      = 42001 // access_token expired
	codeWindowClosed      = 45015 // outside the customer-service window
	codeQuotaUsed         = 45047 // customer-service message quota used
	codeSystemBusy        = -1    // system busy, retry later
	codeAPIFreqLimit      = 45009 // daily API call quota reached
)

// APIError is an errcode/errmsg answer of the WeChat API (Official Account
// "Global return codes"), e.g. {"errcode":45015,"errmsg":"response out of
// time limit or subscription is canceled"}.
type APIError struct {
	// API is the path called, e.g. "/cgi-bin/message/custom/send".
	API  string
	Code int64
	Msg  string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("wechat api %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// tokenRejected reports whether code says the access token must be
// refreshed (40001, 40014, 42001).
func tokenRejected(code int64) bool {
	return code == codeInvalidCredential || code == codeInvalidToken || code == codeTokenExpired
}

// providerError maps an API error to the domain's ProviderError; system
// busy (-1) and the daily call quota (45009) are retryable later.
func providerError(e *APIError) *conversation.ProviderError {
	return &conversation.ProviderError{
		Channel:   conversation.ChannelWeChat,
		Code:      strconv.FormatInt(e.Code, 10),
		Message:   e.Msg,
		Retryable: e.Code == codeSystemBusy || e.Code == codeAPIFreqLimit,
	}
}

// sendError wraps an outbound failure: API errors become ProviderErrors,
// 45015 and 45047 also match ErrWindowClosed and ErrQuotaUsed.
func sendError(op string, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("wechat: %s: %w", op, err)
	}
	pe := providerError(ae)
	switch ae.Code {
	case codeWindowClosed:
		return fmt.Errorf("wechat: %s: %w: %w", op, ErrWindowClosed, pe)
	case codeQuotaUsed:
		return fmt.Errorf("wechat: %s: %w: %w", op, ErrQuotaUsed, pe)
	}
	return fmt.Errorf("wechat: %s: %w", op, pe)
}

// localWindowError is the error for a send refused before calling WeChat
// because our window record says WeChat would refuse it: the same shape as
// WeChat's own answer (ProviderError with code 45015 or 45047).
func localWindowError(op string, err error) error {
	code, msg := int64(codeWindowClosed), "service window closed (no user interaction in the window)"
	if errors.Is(err, ErrQuotaUsed) {
		code, msg = codeQuotaUsed, "service window message quota used (the user must write again)"
	}
	pe := providerError(&APIError{Code: code, Msg: msg})
	return fmt.Errorf("wechat: %s: %w: %w", op, err, pe)
}

// redactURLError strips the request URL (which carries the access token)
// from a net/http client error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, "wechat api", ue.Err)
	}
	return err
}
