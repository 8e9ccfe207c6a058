package configs

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Secret rules that Validate enforces.
const (
	// MinJWTSecretBytes is the shortest HS256 key: a key as long as the hash
	// output, 256 bits (RFC 7518 §3.2).
	MinJWTSecretBytes = 32
	// WeChatAESKeyLen is the length of a WeChat EncodingAESKey: 43 base64
	// characters, 32 bytes once "=" is appended.
	WeChatAESKeyLen = 43
)

// validateSecrets checks the secrets read from the environment. Messages
// name variables, never values.
func (c *Config) validateSecrets(v *collector) {
	s := c.Secrets
	bad := func(env, field, format string, args ...any) {
		v.list = append(v.list, Problem{File: c.File, Source: "env " + env, Field: field, Message: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}
	if s.JWTSecret != "" && len(s.JWTSecret) < MinJWTSecretBytes {
		bad(EnvJWTSecret, "secrets.jwt_secret", "the secret is %d bytes, too short for HS256 (allowed: at least %d bytes, RFC 7518 §3.2; or unset for a development secret)", len(s.JWTSecret), MinJWTSecretBytes)
	}

	type secretVar struct{ env, field, value string }
	wechat := []secretVar{
		{EnvWeChatAppID, "secrets.wechat_appid", s.WeChatAppID},
		{EnvWeChatSecret, "secrets.wechat_secret", s.WeChatSecret},
		{EnvWeChatToken, "secrets.wechat_token", s.WeChatToken},
	}
	twilio := []secretVar{
		{EnvTwilioAccountSID, "secrets.twilio_account_sid", s.TwilioAccountSID},
		{EnvTwilioAuthToken, "secrets.twilio_auth_token", s.TwilioAuthToken},
	}
	for _, group := range [][]secretVar{wechat, twilio} {
		var set, missing, all []string
		first := secretVar{}
		for _, sv := range group {
			all = append(all, sv.env)
			if sv.value == "" {
				missing = append(missing, sv.env)
				continue
			}
			if first.env == "" {
				first = sv
			}
			set = append(set, sv.env)
		}
		if len(set) > 0 && len(missing) > 0 {
			bad(first.env, first.field, "%s set but %s not (allowed: all of %s, or none)", strings.Join(set, ", "), strings.Join(missing, ", "), strings.Join(all, ", "))
		}
	}

	if t := s.WeChatToken; t != "" && !isWeChatToken(t) {
		bad(EnvWeChatToken, "secrets.wechat_token", "the token is %d characters or has other than letters and digits (allowed: 3 to 32 letters or digits, as WeChat's server configuration requires)", len(t))
	}
	if k := s.WeChatAESKey; k != "" {
		raw, err := base64.StdEncoding.DecodeString(k + "=")
		if len(k) != WeChatAESKeyLen || err != nil || len(raw) != 32 {
			bad(EnvWeChatAESKey, "secrets.wechat_aes_key", "not an EncodingAESKey (allowed: exactly %d base64 characters, decoding to a 32-byte AES key)", WeChatAESKeyLen)
		}
		if s.WeChatAppID == "" {
			bad(EnvWeChatAESKey, "secrets.wechat_aes_key", "set without %s (allowed: with the WeChat account variables, or unset)", EnvWeChatAppID)
		}
	}
}

// isWeChatToken reports whether t is 3 to 32 ASCII letters or digits.
func isWeChatToken(t string) bool {
	if len(t) < 3 || len(t) > 32 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
