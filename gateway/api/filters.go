package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// listParams returns the query parameters of GET /api/v1/conversations.
func listParams() []string {
	return []string{"status", "channel", "team", "customer", "assignee", "limit", "cursor"}
}

// maxIDBytes bounds ids and cursors taken from the URL.
const maxIDBytes = 128

// parseListFilter reads the list query into a filter. Every problem is a
// 400 that names the parameter and what is allowed: unknown or repeated
// parameters, a status or channel that does not exist, a team or assignee
// the directory does not know, a limit outside 1–500, a cursor that is not
// a conversation id in the form the API gives them (canonicalUUID).
// Directory errors other than not found are returned as they are.
func (s *server) parseListFilter(ctx context.Context, q url.Values) (state.ConversationFilter, error) {
	var f state.ConversationFilter
	var problems []string
	allowed := listParams()
	for name, values := range q {
		if !slices.Contains(allowed, name) {
			problems = append(problems, fmt.Sprintf("unknown query parameter %q (allowed: %s)", name, strings.Join(allowed, ", ")))
		} else if len(values) > 1 {
			problems = append(problems, fmt.Sprintf("query parameter %q given %d times; give it once", name, len(values)))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return f, badRequest("%s", strings.Join(problems, "; "))
	}
	if v, ok := param(q, "status"); ok {
		if !conversation.Status(v).Valid() {
			problems = append(problems, fmt.Sprintf("query parameter \"status\": %q is not a status (allowed: %s)", v, joinValues(conversation.Statuses)))
		}
		f.Status = conversation.Status(v)
	}
	if v, ok := param(q, "channel"); ok {
		if !conversation.Channel(v).Valid() {
			problems = append(problems, fmt.Sprintf("query parameter \"channel\": %q is not a channel (allowed: %s)", v, joinValues(conversation.Channels)))
		}
		f.Channel = conversation.Channel(v)
	}
	if v, ok := param(q, "team"); ok {
		_, err := s.dir.Team(ctx, conversation.TeamID(v))
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			teams, err := s.dir.Teams(ctx)
			if err != nil {
				return f, fmt.Errorf("api: list teams: %w", err)
			}
			ids := make([]string, len(teams))
			for i, t := range teams {
				ids[i] = string(t.ID)
			}
			problems = append(problems, fmt.Sprintf("query parameter \"team\": %q is not a team (allowed: %s)", v, strings.Join(ids, ", ")))
		case err != nil:
			return f, fmt.Errorf("api: team %s: %w", v, err)
		}
		f.TeamID = conversation.TeamID(v)
	}
	if v, ok := param(q, "assignee"); ok {
		_, err := s.dir.RM(ctx, conversation.RMID(v))
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			problems = append(problems, fmt.Sprintf("query parameter \"assignee\": %q is not an RM id in the directory", v))
		case err != nil:
			return f, fmt.Errorf("api: rm %s: %w", v, err)
		}
		f.AssigneeID = conversation.RMID(v)
	}
	if v, ok := param(q, "customer"); ok {
		if !sane(v) {
			problems = append(problems, fmt.Sprintf("query parameter \"customer\": a customer id of 1 to %d printable characters", maxIDBytes))
		}
		f.CustomerID = conversation.CustomerID(v)
	}
	if v, ok := param(q, "limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > state.MaxListLimit {
			problems = append(problems, fmt.Sprintf("query parameter \"limit\": %q (allowed: an integer from 1 to %d; default %d)", v, state.MaxListLimit, state.DefaultListLimit))
		}
		f.Limit = n
	} else {
		f.Limit = state.DefaultListLimit
	}
	if v, ok := param(q, "cursor"); ok {
		if !canonicalUUID(v) {
			problems = append(problems, "query parameter \"cursor\": not a next_cursor from a previous page (allowed: a conversation id as the API gives it, a UUID of 36 lowercase hex digits and dashes such as 0195f2a0-1c2d-7e3f-8a4b-5c6d7e8f9a0b)")
		}
		f.Cursor = v
	}
	if len(problems) > 0 {
		return f, badRequest("%s", strings.Join(problems, "; "))
	}
	return f, nil
}

// param returns the value of a query parameter that is present; an empty
// value counts as present (and then fails validation).
func param(q url.Values, name string) (string, bool) {
	v, ok := q[name]
	if !ok {
		return "", false
	}
	return v[0], true
}

// canonicalUUID reports whether s is a UUID in the canonical text form the
// API gives conversation ids in (RFC 9562 §4): 36 characters, lowercase hex
// digits with dashes at offsets 8, 13, 18 and 23.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// sane reports whether s is 1 to maxIDBytes bytes of printable characters.
func sane(s string) bool {
	if s == "" || len(s) > maxIDBytes {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

func joinValues[T ~string](vs []T) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}
