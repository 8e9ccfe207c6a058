package api

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Limits of a create request.
const (
	maxPriority   = 100
	maxSkills     = 16
	maxTags       = 20
	maxLabelBytes = 64
)

// createRequest is the body of POST /api/v1/conversations: exactly one of
// CustomerID and Address, a channel, and optional routing hints.
type createRequest struct {
	CustomerID conversation.CustomerID         `json:"customer_id"`
	Address    *conversation.Address           `json:"address"`
	Channel    conversation.Channel            `json:"channel"`
	Priority   *int                            `json:"priority"`
	Skills     []conversation.SkillRequirement `json:"skills"`
	Intent     string                          `json:"intent"`
	Language   string                          `json:"language"`
	Tags       []string                        `json:"tags"`
}

// languageTag is the shape of a BCP 47 language tag (RFC 5646 §2.1), e.g.
// "yue", "en", "zh-Hant-HK".
var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// skillName is the shape of a skill name, e.g. "wealth", "fx_options".
var skillName = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// validate checks every field and reports every problem at once as a 400.
func (req createRequest) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case req.CustomerID == "" && req.Address == nil:
		bad("give \"customer_id\" or \"address\"")
	case req.CustomerID != "" && req.Address != nil:
		bad("give \"customer_id\" or \"address\", not both")
	case req.CustomerID != "" && !sane(string(req.CustomerID)):
		bad("field \"customer_id\": 1 to %d printable characters", maxIDBytes)
	case req.Address != nil && !req.Address.Kind.Valid():
		bad("field \"address.kind\": %q (allowed: %s)", req.Address.Kind, joinValues(conversation.AddressKinds))
	case req.Address != nil && strings.TrimSpace(req.Address.Value) == "":
		bad("field \"address.value\": empty")
	}
	switch {
	case req.Channel == "":
		bad("field \"channel\": required (allowed: %s)", joinValues(conversation.Channels))
	case !req.Channel.Valid():
		bad("field \"channel\": %q (allowed: %s)", req.Channel, joinValues(conversation.Channels))
	}
	if req.Priority != nil && (*req.Priority < 0 || *req.Priority > maxPriority) {
		bad("field \"priority\": %d (allowed: 0 to %d, added to the segment's priority)", *req.Priority, maxPriority)
	}
	if len(req.Skills) > maxSkills {
		bad("field \"skills\": %d skills (allowed: at most %d)", len(req.Skills), maxSkills)
	}
	seen := make(map[string]bool)
	for i, sk := range req.Skills {
		if !skillName.MatchString(sk.Skill) {
			bad("field \"skills[%d].skill\": %q (allowed: 1 to 64 of a-z, 0-9, _)", i, sk.Skill)
		}
		if sk.MinLevel < 1 || sk.MinLevel > 5 {
			bad("field \"skills[%d].min_level\": %d (allowed: 1 to 5)", i, sk.MinLevel)
		}
		if seen[sk.Skill] {
			bad("field \"skills\": skill %q given twice", sk.Skill)
		}
		seen[sk.Skill] = true
	}
	if req.Intent != "" && !label(req.Intent) {
		bad("field \"intent\": 1 to %d printable characters", maxLabelBytes)
	}
	if req.Language != "" && (len(req.Language) > 35 || !languageTag.MatchString(req.Language)) {
		bad("field \"language\": %q is not a BCP 47 language tag (e.g. yue, en, zh-Hant)", req.Language)
	}
	if len(req.Tags) > maxTags {
		bad("field \"tags\": %d tags (allowed: at most %d)", len(req.Tags), maxTags)
	}
	for i, t := range req.Tags {
		if !label(t) {
			bad("field \"tags[%d]\": 1 to %d printable characters", i, maxLabelBytes)
		} else if slices.Index(req.Tags, t) != i {
			bad("field \"tags\": tag %q given twice", t)
		}
	}
	if len(problems) > 0 {
		return badRequest("%s", strings.Join(problems, "; "))
	}
	return nil
}

// label reports whether s is 1 to maxLabelBytes printable characters.
func label(s string) bool {
	return s != "" && len(s) <= maxLabelBytes && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

// channelAddressKinds returns the address kinds a channel reaches a client
// at, in order of preference.
func channelAddressKinds(ch conversation.Channel) []conversation.AddressKind {
	switch ch {
	case conversation.ChannelVoice:
		return []conversation.AddressKind{conversation.AddressPhone, conversation.AddressSIP}
	case conversation.ChannelSMS:
		return []conversation.AddressKind{conversation.AddressPhone}
	case conversation.ChannelWeChat:
		return []conversation.AddressKind{conversation.AddressWeChat}
	case conversation.ChannelWebChat:
		return []conversation.AddressKind{conversation.AddressApp}
	case conversation.ChannelVideo:
		return []conversation.AddressKind{conversation.AddressApp, conversation.AddressSIP}
	}
	return nil
}

// addressFor returns the customer's address for channel ch: the first of
// their addresses of the channel's most preferred kind.
func addressFor(c conversation.Customer, ch conversation.Channel) (conversation.Address, bool) {
	for _, k := range channelAddressKinds(ch) {
		if a, ok := c.Address(k); ok {
			return a, true
		}
	}
	return conversation.Address{}, false
}
