package configs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/airbranch/airbranch/channels/conversation"
)

// checkCustomers checks every customer against the RM index, and that no
// address is claimed twice.
func checkCustomers(customers []conversation.Customer, rms map[string]int, v *collector) {
	seen := map[string]int{}
	owner := map[string]string{} // address key -> field path of its first claim
	ownerID := map[string]conversation.CustomerID{}
	for i, c := range customers {
		p := fmt.Sprintf("customers[%d]", i)
		checkID(v, p, "customer", string(c.ID), i, seen)
		if !c.Segment.Valid() {
			v.invalid(p+".segment", "customer %s has segment %q (allowed: %s)", c.ID, c.Segment, segmentList())
		}
		if c.Verification != "" && !c.Verification.Valid() {
			v.invalid(p+".verification", "customer %s has verification %q (allowed: none, basic, strong; absent means basic)", c.ID, c.Verification)
		}
		for _, ref := range []struct {
			field string
			id    conversation.RMID
		}{{"own_rm", c.OwnRM}, {"deputy_rm", c.DeputyRM}} {
			if _, ok := rms[string(ref.id)]; ref.id != "" && !ok {
				v.invalid(p+"."+ref.field, "customer %s has unknown %s %q (allowed: %s)", c.ID, ref.field, ref.id, knownList(rms))
			}
		}
		if c.DeputyRM != "" && c.DeputyRM == c.OwnRM {
			v.invalid(p+".deputy_rm", "customer %s has %s as both own_rm and deputy_rm (allowed: a deputy other than the own rm)", c.ID, c.OwnRM)
		}
		if l := c.PreferredLanguage; l != "" && !slices.Contains(Languages(), l) {
			v.invalid(p+".preferred_language", "customer %s prefers unknown language %q (allowed: %s, or empty)", c.ID, l, strings.Join(Languages(), ", "))
		}
		for k, a := range c.Addresses {
			f := fmt.Sprintf("%s.addresses[%d]", p, k)
			if err := a.Validate(); err != nil {
				v.invalid(f, "customer %s: %s", c.ID, addressProblem(a))
				continue
			}
			key := a.Key()
			if first, taken := owner[key]; taken {
				if ownerID[key] == c.ID {
					v.invalid(f, "customer %s lists address %s twice, first at %s%s (allowed: each address once)", c.ID, a, first, v.lineNote(first))
				} else {
					v.invalid(f, "address %s of customer %s already belongs to customer %s at %s%s (allowed: each address on one customer)", a, c.ID, ownerID[key], first, v.lineNote(first))
				}
				continue
			}
			owner[key], ownerID[key] = f, c.ID
		}
	}
}

// addressProblem explains why a failed conversation.Address.Validate,
// with the value masked.
func addressProblem(a conversation.Address) string {
	kinds := make([]string, len(conversation.AddressKinds))
	for i, k := range conversation.AddressKinds {
		kinds[i] = string(k)
	}
	switch {
	case !a.Kind.Valid():
		return fmt.Sprintf("address kind %q is unknown (allowed: %s)", a.Kind, strings.Join(kinds, ", "))
	case strings.TrimSpace(a.Value) == "":
		return fmt.Sprintf("%s address has no value (allowed: a non-empty value)", a.Kind)
	case a.Kind == conversation.AddressPhone:
		return fmt.Sprintf("phone %s is not E.164 (allowed: \"+\" then 8 to 15 digits with the country code, such as +85255500001)", a.Masked())
	}
	return fmt.Sprintf("address %s is not valid", a)
}
