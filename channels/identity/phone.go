// Package identity turns the addresses clients arrive from (caller IDs, SIP
// URIs, WeChat openids, app user ids) into customers: it normalises phone
// numbers to E.164, looks the address up in the bank's directory and then in
// the state store, and creates an unverified prospect for an address nobody
// knows.
package identity

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/airbranch/airbranch/channels/conversation"
)

// NormalisePhone returns raw as an E.164 number ("+85255501234", ITU-T
// E.164 §6). raw may be written for people ("+852 5550 1234",
// "(852) 5550-1234"), national without a country code ("55501234", read in
// defaultRegion, an ISO 3166-1 alpha-2 code such as "HK"), a tel URI
// ("tel:+852-5550-1234", or a local number with a global phone-context,
// RFC 3966 §5.1.5), or a SIP or SIPS URI whose user part is a telephone
// number ("sip:+85255501234@trunk.example;user=phone", RFC 3261 §19.1.1).
//
// The number must be valid in the phone-number metadata, or have exactly
// the length of a mobile or fixed-line number of its country: ranges the
// metadata does not list as allocated (test ranges such as HK 5550 xxxx,
// newly opened mobile ranges) are accepted, so a customer's key does not
// depend on the metadata's age, while a number with a digit missing is not.
// Letters (vanity numbers), extensions, unknown country codes and numbers
// of impossible length are refused. Errors wrap ErrInvalidPhone (and so
// conversation.ErrInvalid) and show the input only masked.
func NormalisePhone(raw, defaultRegion string) (string, error) {
	number, err := phoneText(raw)
	if err != nil {
		return "", err
	}
	for _, r := range number {
		if !strings.ContainsRune("0123456789+ -.()/", r) {
			return "", fmt.Errorf("phone %s: %w: only digits, a leading + and the separators \" -.()/\" are allowed", conversation.MaskPhone(raw), ErrInvalidPhone)
		}
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if !strings.HasPrefix(number, "+") {
		if region == "" {
			return "", fmt.Errorf("phone %s: %w: no country code and no default region", conversation.MaskPhone(raw), ErrInvalidPhone)
		}
		if !phonenumbers.GetSupportedRegions()[region] {
			return "", fmt.Errorf("phone %s: %w: default region %q is not an ISO 3166-1 alpha-2 region with a numbering plan (e.g. HK, CN, GB)", conversation.MaskPhone(raw), ErrInvalidPhone, defaultRegion)
		}
	}
	num, err := phonenumbers.Parse(number, region)
	if err != nil {
		return "", fmt.Errorf("phone %s: %w: %v", conversation.MaskPhone(raw), ErrInvalidPhone, err)
	}
	if num.GetExtension() != "" {
		return "", fmt.Errorf("phone %s: %w: extensions are not part of an E.164 number", conversation.MaskPhone(raw), ErrInvalidPhone)
	}
	if !phonenumbers.IsValidNumber(num) {
		if reason := phonenumbers.IsPossibleNumberWithReason(num); reason != phonenumbers.IS_POSSIBLE {
			return "", fmt.Errorf("phone %s: %w: %s for country code +%d", conversation.MaskPhone(raw), ErrInvalidPhone, lengthProblem(reason), num.GetCountryCode())
		}
		if !subscriberLength(num) {
			return "", fmt.Errorf("phone %s: %w: %d digits after country code +%d is not the length of a mobile or fixed-line number there", conversation.MaskPhone(raw), ErrInvalidPhone, len(phonenumbers.GetNationalSignificantNumber(num)), num.GetCountryCode())
		}
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if !conversation.IsE164(e164) {
		return "", fmt.Errorf("phone %s: %w: not 8 to 15 digits after the +", conversation.MaskPhone(raw), ErrInvalidPhone)
	}
	return e164, nil
}

// subscriberLength reports whether num's national significant number has
// the length of the example mobile or fixed-line number of its country's
// main region: the check that lets an unallocated range through while
// refusing a number with a digit missing or added.
func subscriberLength(num *phonenumbers.PhoneNumber) bool {
	region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	n := len(phonenumbers.GetNationalSignificantNumber(num))
	for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
		if ex := phonenumbers.GetExampleNumberForType(region, typ); ex != nil && len(phonenumbers.GetNationalSignificantNumber(ex)) == n {
			return true
		}
	}
	return false
}

func lengthProblem(r phonenumbers.ValidationResult) string {
	switch r {
	case phonenumbers.TOO_SHORT:
		return "too short"
	case phonenumbers.TOO_LONG:
		return "too long"
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "a local number without its area code"
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "unknown country code"
	}
	return "a length no number has"
}

// phoneText strips the URI wrapping of raw and returns the telephone number
// text inside it.
func phoneText(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if s == "" {
		return "", fmt.Errorf("phone: %w: empty", ErrInvalidPhone)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "tel:"):
		return telNumber(raw, s[len("tel:"):])
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
		user, _, _, ok := sipUser(s)
		if !ok || user == "" {
			return "", fmt.Errorf("phone %s: %w: SIP URI without a user part", conversation.MaskPhone(raw), ErrInvalidPhone)
		}
		// telephone-subscriber parameters (";isub=", ";postd=") are not part
		// of the number (RFC 3261 §19.1.1, RFC 3966 §3).
		number, _, _ := strings.Cut(user, ";")
		return number, nil
	}
	return s, nil
}

// telNumber reads the number of a tel URI body (RFC 3966 §3): a global
// number, or a local number with a phone-context that is a global number
// prefix.
func telNumber(raw, body string) (string, error) {
	number, params, _ := strings.Cut(body, ";")
	var context string
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(p, "=")
		switch strings.ToLower(name) {
		case "ext":
			return "", fmt.Errorf("phone %s: %w: extensions are not part of an E.164 number", conversation.MaskPhone(raw), ErrInvalidPhone)
		case "phone-context":
			context = value
		}
	}
	if strings.HasPrefix(number, "+") {
		return number, nil
	}
	if !strings.HasPrefix(context, "+") {
		return "", fmt.Errorf("phone %s: %w: a local tel URI needs a phone-context that starts with + (RFC 3966 §5.1.5)", conversation.MaskPhone(raw), ErrInvalidPhone)
	}
	return context + number, nil
}

// sipUser splits a SIP or SIPS URI (RFC 3261 §19.1.1) into its user part
// (percent-decoded, without any password), its host[:port] in lower case
// and its URI parameters (the text after the first ";" that follows the
// host, without headers), and reports whether uri is one. A URI without a
// user part ("sip:example.com") gives an empty user.
func sipUser(uri string) (user, hostport, params string, ok bool) {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(uri), "<"), ">")
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "sip:"):
		s = s[len("sip:"):]
	case strings.HasPrefix(lower, "sips:"):
		s = s[len("sips:"):]
	default:
		return "", "", "", false
	}
	userinfo, rest, hasUser := strings.Cut(s, "@")
	if !hasUser {
		userinfo, rest = "", s
	}
	rest, _, _ = strings.Cut(rest, "?") // headers
	hostport, params, _ = strings.Cut(rest, ";")
	if hostport == "" {
		return "", "", "", false
	}
	userinfo, _, _ = strings.Cut(userinfo, ":") // drop a password
	decoded, err := url.PathUnescape(userinfo)
	if err != nil {
		return "", "", "", false
	}
	return decoded, strings.ToLower(hostport), params, true
}
