package directory

import (
	"maps"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Deep copies of directory entries. Static stores copies of what it is
// given and returns copies of what it stores, so that no slice or map is
// shared between the directory and a caller (a caller that appends to or
// edits one would otherwise change the directory under every other reader,
// a data race). Nil stays nil and empty stays empty, so a copy compares
// equal (reflect.DeepEqual) to its original.

// cloneCustomer returns c with its own Addresses.
func cloneCustomer(c conversation.Customer) conversation.Customer {
	c.Addresses = slices.Clone(c.Addresses)
	return c
}

// cloneRM returns r with its own Skills, Languages and Licences.
func cloneRM(r conversation.RM) conversation.RM {
	r.Skills = maps.Clone(r.Skills)
	r.Languages = slices.Clone(r.Languages)
	r.Licences = slices.Clone(r.Licences)
	return r
}

// cloneTeam returns t with its own Hours (each with its own Days) and
// Holidays.
func cloneTeam(t conversation.Team) conversation.Team {
	if t.Hours != nil {
		hours := make([]conversation.WorkingHours, len(t.Hours))
		for i, h := range t.Hours {
			h.Days = slices.Clone(h.Days)
			hours[i] = h
		}
		t.Hours = hours
	}
	t.Holidays = slices.Clone(t.Holidays)
	return t
}
