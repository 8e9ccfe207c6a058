package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
)

// ProspectStore is the part of the state store identity resolution uses
// (gateway/state.Store satisfies it). Lookups that find nothing return an
// error wrapping conversation.ErrNotFound.
type ProspectStore interface {
	// CreateProspect stores c unless a customer is already linked to
	// c.Addresses[0], in which case it returns that customer and false. It
	// is atomic across gateway instances.
	CreateProspect(ctx context.Context, c conversation.Customer) (conversation.Customer, bool, error)
	// Customer returns a customer stored by CreateProspect.
	Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error)
	// CustomerByAddress returns the stored customer linked to addr.
	CustomerByAddress(ctx context.Context, addr conversation.Address) (conversation.Customer, error)
}

// Resolver finds the customer behind an address: the bank's directory
// first, then the prospects in the store, and for an address nobody knows a
// new unverified prospect in segment mass. Phone numbers it has
// normalised are remembered in a bounded PhoneCache (DefaultPhoneCacheSize
// per generation). It is safe for concurrent use.
type Resolver struct {
	dir    directory.Directory
	store  ProspectStore
	region string
	phones *PhoneCache
}

// NewResolver returns a Resolver over dir and store that reads national
// phone numbers in defaultRegion (ISO 3166-1 alpha-2, e.g. "HK").
func NewResolver(dir directory.Directory, store ProspectStore, defaultRegion string) *Resolver {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	return &Resolver{dir: dir, store: store, region: region, phones: NewPhoneCache(region, DefaultPhoneCacheSize)}
}

// Normalise returns addr in the form stores and the directory key it by:
// phone numbers in E.164 (see NormalisePhone); a SIP URI whose user part is
// a telephone number (it starts with "+", or the URI has user=phone, RFC
// 3261 §19.1.1) becomes a phone address; other SIP URIs become
// "sip:user@host" with the scheme and host in lower case and parameters
// dropped; other kinds are trimmed of surrounding space. Phone numbers
// come from the Resolver's PhoneCache after the first time. Errors wrap
// ErrInvalidPhone or ErrInvalidAddress (both wrap conversation.ErrInvalid).
func (r *Resolver) Normalise(addr conversation.Address) (conversation.Address, error) {
	if !addr.Kind.Valid() {
		return conversation.Address{}, fmt.Errorf("address kind %q: %w (allowed: %v)", addr.Kind, ErrInvalidAddress, conversation.AddressKinds)
	}
	value := strings.TrimSpace(addr.Value)
	if value == "" {
		return conversation.Address{}, fmt.Errorf("%s address: %w: empty value", addr.Kind, ErrInvalidAddress)
	}
	switch addr.Kind {
	case conversation.AddressPhone:
		e164, err := r.phones.Normalise(value)
		if err != nil {
			return conversation.Address{}, err
		}
		return conversation.Address{Kind: conversation.AddressPhone, Value: e164}, nil
	case conversation.AddressSIP:
		user, hostport, params, ok := sipUser(value)
		if !ok {
			return conversation.Address{}, fmt.Errorf("sip_uri address %s: %w: not a sip: or sips: URI (RFC 3261 §19.1.1)", conversation.MaskOpaque(value), ErrInvalidAddress)
		}
		if strings.HasPrefix(user, "+") || hasParam(params, "user", "phone") {
			e164, err := r.phones.Normalise(value)
			if err != nil {
				return conversation.Address{}, err
			}
			return conversation.Address{Kind: conversation.AddressPhone, Value: e164}, nil
		}
		scheme := "sip:"
		if strings.HasPrefix(strings.ToLower(strings.TrimPrefix(value, "<")), "sips:") {
			scheme = "sips:"
		}
		if user == "" {
			return conversation.Address{Kind: conversation.AddressSIP, Value: scheme + hostport}, nil
		}
		return conversation.Address{Kind: conversation.AddressSIP, Value: scheme + user + "@" + hostport}, nil
	}
	return conversation.Address{Kind: addr.Kind, Value: value}, nil
}

func hasParam(params, name, value string) bool {
	for p := range strings.SplitSeq(params, ";") {
		n, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(n, name) && strings.EqualFold(v, value) {
			return true
		}
	}
	return false
}

// Lookup returns the customer reachable at addr (normalised first): the
// directory's, else a prospect in the store. It creates nothing. Errors:
// ErrInvalidPhone or ErrInvalidAddress for a malformed address, ErrNotFound
// when nobody is linked to it, and the directory's or store's own errors
// (e.g. the store's unavailable error) wrapped.
func (r *Resolver) Lookup(ctx context.Context, addr conversation.Address) (conversation.Customer, error) {
	a, err := r.Normalise(addr)
	if err != nil {
		return conversation.Customer{}, err
	}
	return r.lookup(ctx, a)
}

func (r *Resolver) lookup(ctx context.Context, a conversation.Address) (conversation.Customer, error) {
	c, err := r.dir.CustomerByAddress(ctx, a)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, conversation.ErrNotFound) {
		return conversation.Customer{}, fmt.Errorf("identity: customer at %s: directory: %w", a, err)
	}
	c, err = r.store.CustomerByAddress(ctx, a)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, conversation.ErrNotFound) {
		return conversation.Customer{}, fmt.Errorf("identity: customer at %s: store: %w", a, err)
	}
	return conversation.Customer{}, fmt.Errorf("identity: customer at %s: %w", a, ErrNotFound)
}

// Resolve returns the customer behind addr at now, and whether it was
// created by this call. addr is normalised first (see Normalise); the
// directory is asked first, then the store; an address nobody knows becomes
// an unverified prospect in segment mass (conversation.NewProspect), stored
// with CreateProspect, which is an atomic insert-if-absent: two instances
// resolving one new address at once make one prospect, and only one of
// them reports created. Errors other than "not found" (a directory or store
// that cannot be reached) are returned wrapped, never turned into a
// prospect; a malformed address wraps ErrInvalidPhone or ErrInvalidAddress.
func (r *Resolver) Resolve(ctx context.Context, addr conversation.Address, now time.Time) (conversation.Customer, bool, error) {
	a, err := r.Normalise(addr)
	if err != nil {
		return conversation.Customer{}, false, err
	}
	c, err := r.lookup(ctx, a)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return conversation.Customer{}, false, err
	}
	c, created, err := r.store.CreateProspect(ctx, conversation.NewProspect(a, now))
	if err != nil {
		return conversation.Customer{}, false, fmt.Errorf("identity: create prospect at %s: %w", a, err)
	}
	return c, created, nil
}

// Customer returns the customer with id: the directory's, else a prospect
// in the store. Errors: ErrNotFound when neither knows it, and the
// directory's or store's own errors wrapped.
func (r *Resolver) Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	c, err := r.dir.Customer(ctx, id)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, conversation.ErrNotFound) {
		return conversation.Customer{}, fmt.Errorf("identity: customer %s: directory: %w", id, err)
	}
	c, err = r.store.Customer(ctx, id)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, conversation.ErrNotFound) {
		return conversation.Customer{}, fmt.Errorf("identity: customer %s: store: %w", id, err)
	}
	return conversation.Customer{}, fmt.Errorf("identity: customer %s: %w", id, ErrNotFound)
}
