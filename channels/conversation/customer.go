package conversation

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// AddressKind is the kind of address a customer is reached at.
type AddressKind string

// Address kinds.
const (
	// AddressPhone is an E.164 phone number such as "+85291234567", used by
	// voice (caller ID) and SMS.
	AddressPhone AddressKind = "phone"
	// AddressWeChat is a WeChat official-account openid.
	AddressWeChat AddressKind = "wechat_openid"
	// AddressApp is the bank's mobile/online banking user id (web chat, video).
	AddressApp AddressKind = "app_user"
	// AddressSIP is a SIP URI (RFC 3261 §19.1), e.g. "sip:alice@example.com".
	AddressSIP AddressKind = "sip_uri"
)

// AddressKinds lists every address kind.
var AddressKinds = []AddressKind{AddressPhone, AddressWeChat, AddressApp, AddressSIP}

// Valid reports whether k is one of AddressKinds.
func (k AddressKind) Valid() bool { return slices.Contains(AddressKinds, k) }

// Address is one way to reach a customer. Phone values are E.164; other
// values are opaque provider identifiers. Address values are personal data:
// Address implements slog.LogValuer and logs itself masked.
type Address struct {
	Kind  AddressKind `json:"kind" yaml:"kind"`
	Value string      `json:"value" yaml:"value"`
}

// Key returns "kind:value", the address's unique key in stores and indexes.
func (a Address) Key() string { return string(a.Kind) + ":" + a.Value }

// String returns the masked form, so an address printed by mistake does not
// leak personal data. Use Value for the clear form.
func (a Address) String() string { return string(a.Kind) + ":" + a.Masked() }

// Masked returns the value with its middle hidden: phones keep the country
// prefix and last four digits, other kinds keep three leading and two
// trailing characters.
func (a Address) Masked() string {
	if a.Kind == AddressPhone {
		return MaskPhone(a.Value)
	}
	return MaskOpaque(a.Value)
}

// LogValue implements slog.LogValuer: addresses are always logged masked.
func (a Address) LogValue() slog.Value {
	return slog.StringValue(a.String())
}

// Validate checks that the kind is known and the value non-empty; a phone
// must already be in E.164 form ("+" and 8 to 15 digits, ITU-T E.164 §6).
// Errors wrap ErrInvalid.
func (a Address) Validate() error {
	if !a.Kind.Valid() {
		return fmt.Errorf("address kind %q: %w (allowed: %v)", a.Kind, ErrInvalid, AddressKinds)
	}
	if strings.TrimSpace(a.Value) == "" {
		return fmt.Errorf("%s address: %w: empty value", a.Kind, ErrInvalid)
	}
	if a.Kind == AddressPhone && !IsE164(a.Value) {
		return fmt.Errorf("phone address %s: %w: not E.164", MaskPhone(a.Value), ErrInvalid)
	}
	return nil
}

// IsE164 reports whether s has the shape of an E.164 number: "+" followed by
// 8 to 15 digits, the first not zero.
func IsE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Consent holds the customer's consent flags.
type Consent struct {
	// CallRecording: the customer agreed to calls and video being recorded.
	CallRecording bool `json:"call_recording" yaml:"call_recording"`
	// SMSOptOut: the customer asked for no SMS (STOP); nothing but replies
	// they ask for may be sent.
	SMSOptOut bool `json:"sms_opt_out" yaml:"sms_opt_out"`
	// MarketingOptOut: no marketing on any channel.
	MarketingOptOut bool `json:"marketing_opt_out" yaml:"marketing_opt_out"`
}

// Customer is one client of the bank, behind any number of addresses.
type Customer struct {
	ID          CustomerID `json:"id" yaml:"id"`
	DisplayName string     `json:"display_name" yaml:"display_name"`
	Segment     Segment    `json:"segment" yaml:"segment"`
	// OwnRM is the customer's assigned relationship manager, if any.
	OwnRM RMID `json:"own_rm,omitempty" yaml:"own_rm"`
	// DeputyRM stands in for OwnRM.
	DeputyRM RMID `json:"deputy_rm,omitempty" yaml:"deputy_rm"`
	// AUMBand is the band of assets under management, e.g. "1m-8m" (HKD or
	// the bank's reporting currency), as the CRM reports it.
	AUMBand           string       `json:"aum_band,omitempty" yaml:"aum_band"`
	PreferredLanguage string       `json:"preferred_language,omitempty" yaml:"preferred_language"`
	Verification      Verification `json:"verification" yaml:"verification"`
	Consent           Consent      `json:"consent" yaml:"consent"`
	Addresses         []Address    `json:"addresses" yaml:"addresses"`
	// Prospect is true for a customer created from an unknown address; such a
	// customer is unverified and in segment mass until the bank says otherwise.
	Prospect  bool      `json:"prospect,omitempty" yaml:"prospect"`
	CreatedAt time.Time `json:"created_at,omitzero" yaml:"-"`
}

// Address returns the customer's first address of kind k, if any.
func (c Customer) Address(k AddressKind) (Address, bool) {
	for _, a := range c.Addresses {
		if a.Kind == k {
			return a, true
		}
	}
	return Address{}, false
}

// HasAddress reports whether a is one of the customer's addresses.
func (c Customer) HasAddress(a Address) bool { return slices.Contains(c.Addresses, a) }

// NewProspect returns the customer an unknown address becomes: an unverified
// prospect in segment mass, reachable at addr, with a UUIDv7 id.
func NewProspect(addr Address, now time.Time) Customer {
	return Customer{
		ID:           CustomerID("prospect-" + NewUUIDv7(now)),
		DisplayName:  "",
		Segment:      SegmentMass,
		Verification: VerificationNone,
		Addresses:    []Address{addr},
		Prospect:     true,
		CreatedAt:    Millis(now),
	}
}

// Validate checks the customer's id, segment, verification level and
// addresses, and returns every problem joined. Errors wrap ErrInvalid.
func (c Customer) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, fmt.Errorf("customer: %w: empty id", ErrInvalid))
	}
	if !c.Segment.Valid() {
		errs = append(errs, fmt.Errorf("customer %s: segment %q: %w (allowed: %v)", c.ID, c.Segment, ErrInvalid, Segments))
	}
	if c.Verification != "" && !c.Verification.Valid() {
		errs = append(errs, fmt.Errorf("customer %s: verification %q: %w (allowed: %v)", c.ID, c.Verification, ErrInvalid, Verifications))
	}
	for _, a := range c.Addresses {
		if err := a.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("customer %s: %w", c.ID, err))
		}
	}
	return joinErrs(errs)
}
