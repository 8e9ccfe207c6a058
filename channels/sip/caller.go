package sip

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/nyaruka/phonenumbers"

	"github.com/airbranch/airbranch/channels/conversation"
)

// callerAddress returns who calls: the P-Asserted-Identity (RFC 3325 §9.1;
// a tel URI is preferred when there are several) or else the From URI, as
// an E.164 phone address when its user part is a telephone number (read in
// region when it has no country code), else as a SIP URI address.
// asserted is true when the identity came from P-Asserted-Identity.
func callerAddress(req *sip.Request, region string) (addr conversation.Address, asserted bool, err error) {
	var uri string
	for _, h := range req.GetHeaders("P-Asserted-Identity") {
		for _, v := range strings.Split(h.Value(), ",") {
			u := strings.TrimSpace(v)
			if i, j := strings.Index(u, "<"), strings.LastIndex(u, ">"); i >= 0 && j > i {
				u = u[i+1 : j]
			}
			if uri == "" || strings.HasPrefix(strings.ToLower(u), "tel:") {
				uri = u
			}
		}
	}
	asserted = uri != ""
	if uri == "" {
		from := req.From()
		if from == nil {
			return addr, false, fmt.Errorf("caller: no From header")
		}
		uri = from.Address.String()
	}
	user, isTel := uriUser(uri)
	if phone, err := normalisePhone(user, region); err == nil && (isTel || looksLikeNumber(user)) {
		return conversation.Address{Kind: conversation.AddressPhone, Value: phone}, asserted, nil
	}
	if strings.EqualFold(user, "anonymous") || user == "" {
		return conversation.Address{Kind: conversation.AddressSIP, Value: "sip:anonymous@anonymous.invalid"}, false, nil
	}
	u := uri
	if i := strings.IndexAny(u, ";?"); i > 0 && !isTel {
		u = u[:i]
	}
	return conversation.Address{Kind: conversation.AddressSIP, Value: u}, asserted, nil
}

// uriUser returns the user part of a sip:, sips: or tel: URI, without
// parameters; isTel reports a tel URI (RFC 3966).
func uriUser(uri string) (user string, isTel bool) {
	lower := strings.ToLower(uri)
	switch {
	case strings.HasPrefix(lower, "tel:"):
		user, isTel = uri[4:], true
	case strings.HasPrefix(lower, "sip:"):
		user = uri[4:]
	case strings.HasPrefix(lower, "sips:"):
		user = uri[5:]
	default:
		return "", false
	}
	if i := strings.IndexByte(user, '@'); i >= 0 && !isTel {
		user = user[:i]
	} else if !isTel {
		return "", false // no user part: sip:host
	}
	if i := strings.IndexByte(user, ';'); i >= 0 {
		user = user[:i]
	}
	return user, isTel
}

func looksLikeNumber(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-.() ", r):
		default:
			return false
		}
	}
	return digits >= 6
}

// normalisePhone returns raw as E.164 (ITU-T E.164 §6) with
// github.com/nyaruka/phonenumbers, reading national numbers in region.
// Numbers must be possible for their country; unknown ranges are kept.
func normalisePhone(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("caller: empty number")
	}
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("caller %s: %w", conversation.MaskPhone(raw), err)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", fmt.Errorf("caller %s: impossible number", conversation.MaskPhone(raw))
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if !conversation.IsE164(e164) {
		return "", fmt.Errorf("caller %s: not E.164", conversation.MaskPhone(raw))
	}
	return e164, nil
}
