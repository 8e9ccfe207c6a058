// Package twilio is the SMS channel's provider for Twilio and the HTTP
// APIs that copy it: inbound messages and status callbacks arrive as
// signed form posts (X-Twilio-Signature), outbound messages go through the
// Messages REST API (2010-04-01).
//
// Routes (Go 1.22 ServeMux patterns), served by Provider.Handler:
//
//	POST /webhooks/sms/twilio/{account}          inbound message
//	POST /webhooks/sms/twilio/{account}/status   status callback
//
// {account} is a configured Account.Name; the channel account is taken
// from the path, never from the body.
package twilio

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/channels/sms"
)

// PathPrefix is the path under which Handler serves; mount Handler there
// (mux.Handle(twilio.PathPrefix, p.Handler())).
const PathPrefix = "/webhooks/sms/twilio/"

// Provider is the Twilio-compatible SMS provider: an http.Handler for its
// webhooks and an sms.Sender. It starts no goroutine; each webhook is
// handled on its request's goroutine.
type Provider struct {
	cfg       Config
	sink      sms.Sink
	sup       sms.Suppressions
	log       *slog.Logger
	http      *http.Client
	validator twclient.RequestValidator
	accounts  map[string]Account
	mux       *http.ServeMux
	now       func() time.Time
	numbers   *identity.PhoneCache // From numbers already normalised
	exact     *exactSigner         // the fast path of signature checks
}

var _ sms.Sender = (*Provider)(nil)

// New returns the provider for cfg (defaults applied, then validated: the
// error joins every problem, each wrapping ErrConfig). sink receives what
// arrives; sup is the suppression list shared with the other SMS
// providers; logger is enriched with channel=sms, provider=twilio.
func New(cfg Config, sink sms.Sink, sup sms.Suppressions, logger *slog.Logger) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil || sup == nil || logger == nil {
		return nil, fmt.Errorf("twilio: new: %w: sink, suppressions and logger are required", ErrConfig)
	}
	p := &Provider{
		cfg:       cfg,
		sink:      sink,
		sup:       sup,
		log:       logger.With("channel", string(conversation.ChannelSMS), "provider", "twilio"),
		http:      cfg.HTTPClient,
		validator: twclient.NewRequestValidator(cfg.AuthToken),
		accounts:  make(map[string]Account, len(cfg.Accounts)),
		now:       time.Now,
		numbers:   identity.NewPhoneCache(cfg.DefaultRegion, identity.DefaultPhoneCacheSize),
		exact:     newExactSigner(cfg.AuthToken),
	}
	if p.http == nil {
		p.http = &http.Client{Timeout: cfg.RequestTimeout}
	}
	for _, a := range cfg.Accounts {
		p.accounts[a.Name] = a
	}
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("POST "+PathPrefix+"{account}", p.serveInbound)
	p.mux.HandleFunc("POST "+PathPrefix+"{account}/status", p.serveStatus)
	return p, nil
}

// Handler returns the handler of both webhook routes (see the package
// documentation). Other paths under PathPrefix get 404, other methods 405.
func (p *Provider) Handler() http.Handler { return p.mux }

// Accounts returns the names of the configured channel accounts, in
// configuration order: the values of sms.Outbound.Account it sends from
// and of Incoming.ChannelAccount it delivers.
func (p *Provider) Accounts() []string {
	out := make([]string, len(p.cfg.Accounts))
	for i, a := range p.cfg.Accounts {
		out[i] = a.Name
	}
	return out
}

// InboundURL returns the URL to configure as the account's messaging
// webhook: PublicBaseURL + "/webhooks/sms/twilio/" + account.
func (p *Provider) InboundURL(account string) string {
	return p.cfg.PublicBaseURL + PathPrefix + url.PathEscape(account)
}

// StatusURL returns the StatusCallback URL sent with each outbound message
// of account: InboundURL(account) + "/status".
func (p *Provider) StatusURL(account string) string {
	return p.InboundURL(account) + "/status"
}
