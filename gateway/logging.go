package gateway

import (
	"io"
	"log/slog"
	"strings"

	"github.com/airbranch/airbranch/channels/conversation"
)

// NewLogger returns the gateway's logger writing to w: JSON (format "json")
// or logfmt-like text ("text") at level ("debug", "info", "warn", "error").
// As a safety net under the masking done by the domain types, attributes
// whose key names personal data are masked: keys containing "phone",
// "msisdn", "caller" or "from_number" as phone numbers; "openid",
// "app_user" or "sip_uri" as opaque ids; "text", "body" or "content" as
// message bodies.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: maskAttr}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func maskAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindString {
		return a
	}
	k := strings.ToLower(a.Key)
	v := a.Value.String()
	switch {
	case containsAny(k, "phone", "msisdn", "caller", "from_number", "to_number"):
		return slog.String(a.Key, conversation.MaskPhone(v))
	case containsAny(k, "openid", "app_user", "sip_uri"):
		return slog.String(a.Key, conversation.MaskOpaque(v))
	case k == "text" || k == "body" || k == "content" || strings.HasSuffix(k, "_text") || strings.HasSuffix(k, "_body"):
		if strings.HasPrefix(v, "[text ") && strings.HasSuffix(v, " runes]") {
			return a // masked already (a message's LogValue): keep its length
		}
		return slog.String(a.Key, conversation.MaskText(v))
	}
	return a
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
