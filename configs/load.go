package configs

import (
	"fmt"
	"os"
	"path/filepath"
)

// Environment variables read by Load. Overrides replace the value from the
// file; secrets are read from the environment only.
const (
	EnvHTTPAddr              = "AIRBRANCH_HTTP_ADDR"               // overrides http.addr
	EnvRedisURL              = "AIRBRANCH_REDIS_URL"               // overrides redis.url
	EnvLogLevel              = "AIRBRANCH_LOG_LEVEL"               // overrides log.level
	EnvJWTSecret             = "AIRBRANCH_JWT_SECRET"              // Secrets.JWTSecret
	EnvWeChatAppID           = "AIRBRANCH_WECHAT_APPID"            // Secrets.WeChatAppID
	EnvWeChatSecret          = "AIRBRANCH_WECHAT_SECRET"           // Secrets.WeChatSecret
	EnvWeChatToken           = "AIRBRANCH_WECHAT_TOKEN"            // Secrets.WeChatToken
	EnvWeChatAESKey          = "AIRBRANCH_WECHAT_AES_KEY"          // Secrets.WeChatAESKey
	EnvTwilioAccountSID      = "AIRBRANCH_TWILIO_ACCOUNT_SID"      // Secrets.TwilioAccountSID
	EnvTwilioAuthToken       = "AIRBRANCH_TWILIO_AUTH_TOKEN"       // Secrets.TwilioAuthToken
	EnvSMPPPassword          = "AIRBRANCH_SMPP_PASSWORD"           // Secrets.SMPPPassword
	EnvRedisPassword         = "AIRBRANCH_REDIS_PASSWORD"          // Secrets.RedisPassword
	EnvRedisSentinelPassword = "AIRBRANCH_REDIS_SENTINEL_PASSWORD" // Secrets.RedisSentinelPassword
)

// Default returns the embedded defaults (configs/airbranch.yaml) decoded,
// with no file and no environment applied. The embedded file is checked by
// the package tests; Default panics only if a build embedded a broken one.
func Default() *Config {
	cfg := &Config{}
	if _, problems, _ := decodeStrict(embeddedConfigName, []byte(defaultYAML), cfg); len(problems) > 0 {
		panic(fmt.Sprintf("configs: embedded defaults do not decode: %v", problems))
	}
	return cfg
}

// Load returns the configuration: the embedded defaults, then the YAML file
// at path strictly decoded over them (path "" means defaults only), then the
// environment overrides and secrets read through getenv (see the Env
// constants; nil getenv reads nothing, pass os.Getenv in production), then
// Validate. Relative auth.jwks_file and directory.file paths in the file are
// resolved against the file's folder.
//
// A file that cannot be read gives an error wrapping the os error. Every
// problem in the file or the values is returned at once as Problems, each
// with its file and line (or the environment variable it came from).
func Load(path string, getenv func(string) string) (*Config, error) {
	cfg, problems, err := load(path, getenv)
	if err != nil {
		return nil, err
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// load does Load's work and returns the problems of the file and the
// values. The config is nil when the file did not parse or read; err is
// only for a file that cannot be read.
func load(path string, getenv func(string) string) (*Config, Problems, error) {
	cfg := Default()
	cfg.origins = origins{}
	var structural Problems
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("configs: read config: %w", err)
		}
		lines, problems, decoded := decodeStrict(path, data, cfg)
		if !decoded {
			return nil, problems, nil
		}
		structural = problems
		cfg.File = path
		cfg.origins = lines
		cfg.resolvePaths()
	}
	cfg.applyEnv(getenv)
	return cfg, mergeProblems(structural, cfg.problems()), nil
}

// resolvePaths makes relative file paths written in the config file
// relative to the file's folder.
func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.File)
	for _, p := range []*string{&c.Auth.JWKSFile, &c.Directory.File, &c.SIP.TLSCertFile, &c.SIP.TLSKeyFile, &c.SIP.Recording.Dir, &c.WebChat.PublicKeyFile, &c.WebChat.JWKSFile, &c.Video.Recording.Dir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// applyEnv applies the environment overrides and reads the secrets,
// recording which variable each value came from. Empty variables are unset.
func (c *Config) applyEnv(getenv func(string) string) {
	if getenv == nil {
		return
	}
	for _, e := range []struct {
		field, name string
		dst         *string
	}{
		{"http.addr", EnvHTTPAddr, &c.HTTP.Addr},
		{"redis.url", EnvRedisURL, &c.Redis.URL},
		{"log.level", EnvLogLevel, &c.Log.Level},
		{"secrets.jwt_secret", EnvJWTSecret, &c.Secrets.JWTSecret},
		{"secrets.wechat_appid", EnvWeChatAppID, &c.Secrets.WeChatAppID},
		{"secrets.wechat_secret", EnvWeChatSecret, &c.Secrets.WeChatSecret},
		{"secrets.wechat_token", EnvWeChatToken, &c.Secrets.WeChatToken},
		{"secrets.wechat_aes_key", EnvWeChatAESKey, &c.Secrets.WeChatAESKey},
		{"secrets.twilio_account_sid", EnvTwilioAccountSID, &c.Secrets.TwilioAccountSID},
		{"secrets.twilio_auth_token", EnvTwilioAuthToken, &c.Secrets.TwilioAuthToken},
		{"secrets.smpp_password", EnvSMPPPassword, &c.Secrets.SMPPPassword},
		{"secrets.redis_password", EnvRedisPassword, &c.Secrets.RedisPassword},
		{"secrets.redis_sentinel_password", EnvRedisSentinelPassword, &c.Secrets.RedisSentinelPassword},
		{"secrets.sip_nonce_secret", EnvSIPNonceSecret, &c.Secrets.SIPNonceSecret},
		{"secrets.webchat_token_secret", EnvWebChatTokenSecret, &c.Secrets.WebChatTokenSecret},
		{"secrets.webchat_anonymous_secret", EnvWebChatAnonymousSecret, &c.Secrets.WebChatAnonymousSecret},
		{"secrets.video_token_secret", EnvVideoTokenSecret, &c.Secrets.VideoTokenSecret},
		{"secrets.video_turn_credential", EnvVideoTURNCredential, &c.Secrets.VideoTURNCredential},
	} {
		if v := getenv(e.name); v != "" {
			*e.dst = v
			c.origins[e.field] = origin{env: e.name}
		}
	}
	c.applyWeChatEnv(getenv)
	c.applySIPEnv(getenv)
}

// applyWeChatEnv reads the credentials of each of several WeChat accounts
// from the variables under its WeChatEnvPrefix. One account uses the plain
// AIRBRANCH_WECHAT_* variables read by applyEnv.
func (c *Config) applyWeChatEnv(getenv func(string) string) {
	if len(c.WeChat.Accounts) < 2 {
		return
	}
	c.Secrets.WeChatAccounts = map[string]WeChatCredentials{}
	for _, a := range c.WeChat.Accounts {
		if a.Name == "" {
			continue // Validate reports the missing name
		}
		p := WeChatEnvPrefix(a.Name)
		c.Secrets.WeChatAccounts[a.Name] = WeChatCredentials{
			AppID:  getenv(p + weChatAppIDSuffix),
			Secret: getenv(p + weChatSecretSuffix),
			Token:  getenv(p + weChatTokenSuffix),
			AESKey: getenv(p + weChatAESKeySuffix),
		}
	}
}
