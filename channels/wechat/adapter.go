package wechat

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Deps are the adapter's collaborators. Sink is required; the stores
// default to memory implementations, which are right for one instance only:
// with several instances give them all the Redis implementations on one
// Redis (NewRedisWindows, NewRedisSuppressions, NewRedisCache).
type Deps struct {
	// Sink stores what WeChat sends. Required.
	Sink Sink
	// Windows tracks customer-service windows (default: NewMemoryWindows).
	Windows Windows
	// Suppressions records unsubscribed openids (default:
	// NewMemorySuppressions).
	Suppressions Suppressions
	// Tokens holds access tokens and the refresh lock (default:
	// NewMemoryCache).
	Tokens TokenStore
	// HTTPClient calls the WeChat API (default: a client with
	// Config.APITimeout).
	HTTPClient *http.Client
	// Logger receives the adapter's logs (default: discarded).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand supplies the random prefix of encrypted replies (default
	// crypto/rand.Reader).
	Rand io.Reader
}

// Adapter is the WeChat official-account channel: Handler serves WeChat's
// callbacks; SendText, SendImage and SendTemplate send; Window answers the
// desk. It is safe for concurrent use.
type Adapter struct {
	cfg      Config
	accounts []*account
	byName   map[string]*account
	byID     map[string]*account
	sink     Sink
	windows  Windows
	supp     Suppressions
	api      *apiClient
	log      *slog.Logger
	now      func() time.Time
	rand     io.Reader
}

// account is one configured official account with its decoded key and
// token source.
type account struct {
	cfg    AccountConfig
	aesKey []byte // nil in plain mode
	tokens *tokenSource
}

// New validates cfg (after filling defaults) and returns the adapter.
// Errors wrap ErrConfig.
func New(cfg Config, deps Deps) (*Adapter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	if deps.Sink == nil {
		return nil, fmt.Errorf("wechat: %w: a sink is required", ErrConfig)
	}
	if deps.Windows == nil {
		deps.Windows = NewMemoryWindows()
	}
	if deps.Suppressions == nil {
		deps.Suppressions = NewMemorySuppressions()
	}
	if deps.Tokens == nil {
		deps.Tokens = NewMemoryCache()
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: cfg.APITimeout}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Rand == nil {
		deps.Rand = rand.Reader
	}
	a := &Adapter{
		cfg:     cfg,
		byName:  map[string]*account{},
		byID:    map[string]*account{},
		sink:    deps.Sink,
		windows: deps.Windows,
		supp:    deps.Suppressions,
		log:     deps.Logger.With("channel", "wechat"),
		now:     deps.Now,
		rand:    deps.Rand,
	}
	a.api = &apiClient{base: strings.TrimRight(cfg.APIBaseURL, "/"), http: deps.HTTPClient, timeout: cfg.APITimeout}
	for _, ac := range cfg.Accounts {
		acct := &account{cfg: ac}
		if ac.Credentials.EncodingAESKey != "" {
			key, err := parseAESKey(ac.Credentials.EncodingAESKey)
			if err != nil { // Validate checked it already
				return nil, fmt.Errorf("wechat: %w: %v", ErrConfig, err)
			}
			acct.aesKey = key
		}
		acct.tokens = &tokenSource{
			appID:   ac.Credentials.AppID,
			secret:  ac.Credentials.AppSecret,
			api:     a.api,
			store:   deps.Tokens,
			lockTTL: cfg.TokenLockTTL,
			margin:  cfg.TokenRefreshMargin,
			poll:    defaultTokenPoll,
			log:     a.log.With("account", ac.OriginalID),
		}
		a.accounts = append(a.accounts, acct)
		a.byName[ac.Name] = acct
		a.byID[ac.OriginalID] = acct
	}
	return a, nil
}

// accountByID returns the account whose original id is id. Errors wrap
// ErrUnknownAccount.
func (a *Adapter) accountByID(id string) (*account, error) {
	if acct, ok := a.byID[id]; ok {
		return acct, nil
	}
	return nil, fmt.Errorf("wechat: account %q: %w", id, ErrUnknownAccount)
}

// accountForPath returns the account a webhook URL names: the {account}
// segment, or the only account when the URL has none.
func (a *Adapter) accountForPath(name string) (*account, error) {
	if name == "" {
		if len(a.accounts) == 1 {
			return a.accounts[0], nil
		}
		return nil, errors.New("several accounts are configured: the URL must name one")
	}
	if acct, ok := a.byName[name]; ok {
		return acct, nil
	}
	return nil, ErrUnknownAccount
}

// HasTemplate reports whether the account (by original id) has a template
// message configured for SendTemplate.
func (a *Adapter) HasTemplate(account string) bool {
	acct, err := a.accountByID(account)
	return err == nil && acct.cfg.Template.TemplateID != ""
}
