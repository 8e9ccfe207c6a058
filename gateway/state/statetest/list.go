package statetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// createMany stores n conversations made at at(first)…at(first+n-1), each
// changed by set (given its index), and returns them in creation order.
func createMany(t *testing.T, s state.Store, first, n int, set func(i int, c *conversation.Conversation)) []conversation.Conversation {
	t.Helper()
	out := make([]conversation.Conversation, 0, n)
	for i := range n {
		c := newConversation(first + i)
		if set != nil {
			set(i, &c)
		}
		got, err := s.CreateConversation(t.Context(), c)
		must(t, "CreateConversation", err)
		out = append(out, got)
	}
	return out
}

// newestFirst returns the ids of the conversations that keep accepts,
// highest id first: what ListConversations must return.
func newestFirst(cs []conversation.Conversation, keep func(*conversation.Conversation) bool) []conversation.ConversationID {
	var ids []conversation.ConversationID
	for i := range cs {
		if keep(&cs[i]) {
			ids = append(ids, cs[i].ID)
		}
	}
	slices.SortFunc(ids, func(a, b conversation.ConversationID) int { return strings.Compare(string(b), string(a)) })
	return ids
}

// listAll follows NextCursor to the end and returns every id in order and
// the size of each page, failing on a page over the limit, a repeated id
// or a cursor loop.
func listAll(t *testing.T, s state.Store, f state.ConversationFilter) ([]conversation.ConversationID, []int) {
	t.Helper()
	var ids []conversation.ConversationID
	var sizes []int
	seen := map[conversation.ConversationID]bool{}
	for range 1000 {
		page, err := s.ListConversations(t.Context(), f)
		must(t, fmt.Sprintf("ListConversations(%+v)", f), err)
		if len(page.Items) > f.Limit {
			t.Fatalf("page of %d items over the limit %d", len(page.Items), f.Limit)
		}
		sizes = append(sizes, len(page.Items))
		for _, c := range page.Items {
			if seen[c.ID] {
				t.Fatalf("conversation %s listed twice (filter %+v)", c.ID, f)
			}
			seen[c.ID] = true
			ids = append(ids, c.ID)
		}
		if page.NextCursor == "" {
			return ids, sizes
		}
		if len(page.Items) == 0 {
			t.Fatalf("empty page with a next cursor %q", page.NextCursor)
		}
		f.Cursor = page.NextCursor
	}
	t.Fatalf("no last page after 1000 pages (filter %+v)", f)
	return nil, nil
}

func wantIDs(t *testing.T, what string, got, want []conversation.ConversationID) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func testListFilters(t *testing.T, s state.Store) {
	statuses := []conversation.Status{conversation.StatusNew, conversation.StatusQueued, conversation.StatusOffered, conversation.StatusActive, conversation.StatusClosed}
	channels := []conversation.Channel{conversation.ChannelSMS, conversation.ChannelWeChat, conversation.ChannelVoice}
	teams := []conversation.TeamID{"team-affluent", "team-private", ""}
	customers := []conversation.CustomerID{"cust-1", "cust-2", "cust-3"}
	rms := []conversation.RMID{"", "rm-1", "rm-2", "rm-2"}
	all := createMany(t, s, 0, 30, func(i int, c *conversation.Conversation) {
		c.Status = statuses[i%len(statuses)]
		c.Channel = channels[i%len(channels)]
		c.TeamID = teams[(i/2)%len(teams)]
		c.CustomerID = customers[(i/3)%len(customers)]
		c.AssigneeID = rms[i%len(rms)]
	})
	tests := []struct {
		name string
		f    state.ConversationFilter
	}{
		{"none", state.ConversationFilter{}},
		{"status", state.ConversationFilter{Status: conversation.StatusQueued}},
		{"channel", state.ConversationFilter{Channel: conversation.ChannelWeChat}},
		{"team", state.ConversationFilter{TeamID: "team-private"}},
		{"customer", state.ConversationFilter{CustomerID: "cust-2"}},
		{"assignee", state.ConversationFilter{AssigneeID: "rm-2"}},
		{"status_and_team", state.ConversationFilter{Status: conversation.StatusActive, TeamID: "team-affluent"}},
		{"channel_and_customer", state.ConversationFilter{Channel: conversation.ChannelSMS, CustomerID: "cust-1"}},
		{"team_assignee_status", state.ConversationFilter{TeamID: "team-private", AssigneeID: "rm-2", Status: conversation.StatusOffered}},
		{"every_field", state.ConversationFilter{Status: conversation.StatusNew, Channel: conversation.ChannelSMS, TeamID: "team-affluent", CustomerID: "cust-1", AssigneeID: "rm-1"}},
		{"no_match", state.ConversationFilter{TeamID: "team-nobody"}},
	}
	for _, tc := range tests {
		want := newestFirst(all, func(c *conversation.Conversation) bool {
			return (tc.f.Status == "" || c.Status == tc.f.Status) &&
				(tc.f.Channel == "" || c.Channel == tc.f.Channel) &&
				(tc.f.TeamID == "" || c.TeamID == tc.f.TeamID) &&
				(tc.f.CustomerID == "" || c.CustomerID == tc.f.CustomerID) &&
				(tc.f.AssigneeID == "" || c.AssigneeID == tc.f.AssigneeID)
		})
		if tc.name != "no_match" && tc.name != "every_field" && len(want) < 2 {
			t.Fatalf("%s: fixture matches %d conversations; the test needs several", tc.name, len(want))
		}
		f := tc.f
		f.Limit = state.MaxListLimit
		page, err := s.ListConversations(t.Context(), f)
		must(t, tc.name, err)
		var got []conversation.ConversationID
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		wantIDs(t, tc.name+": one page", got, want)
		if page.NextCursor != "" {
			t.Fatalf("%s: next cursor %q on the only page", tc.name, page.NextCursor)
		}
		f.Limit = 2
		got, _ = listAll(t, s, f)
		wantIDs(t, tc.name+": pages of 2", got, want)
	}
}

func testListPagination(t *testing.T, s state.Store) {
	a := createMany(t, s, 0, 23, func(_ int, c *conversation.Conversation) { c.CustomerID = "cust-a" })
	b := createMany(t, s, 100, 20, func(_ int, c *conversation.Conversation) { c.CustomerID = "cust-b" })
	everything := append(slices.Clone(a), b...)
	tests := []struct {
		name  string
		f     state.ConversationFilter
		want  []conversation.ConversationID
		sizes []int
	}{
		{"partial_last_page", state.ConversationFilter{CustomerID: "cust-a", Limit: 5},
			newestFirst(a, func(*conversation.Conversation) bool { return true }), []int{5, 5, 5, 5, 3}},
		{"exact_multiple", state.ConversationFilter{CustomerID: "cust-b", Limit: 5},
			newestFirst(b, func(*conversation.Conversation) bool { return true }), []int{5, 5, 5, 5}},
		{"all", state.ConversationFilter{Limit: 7},
			newestFirst(everything, func(*conversation.Conversation) bool { return true }), []int{7, 7, 7, 7, 7, 7, 1}},
		{"page_of_one", state.ConversationFilter{CustomerID: "cust-b", Limit: 1},
			newestFirst(b, func(*conversation.Conversation) bool { return true }), slices.Repeat([]int{1}, 20)},
	}
	for _, tc := range tests {
		got, sizes := listAll(t, s, tc.f)
		wantIDs(t, tc.name, got, tc.want)
		if !slices.Equal(sizes, tc.sizes) {
			t.Fatalf("%s: page sizes %v, want %v", tc.name, sizes, tc.sizes)
		}
	}
}

func testListFollowsChanges(t *testing.T, s state.Store) {
	ctx := t.Context()
	cs := createMany(t, s, 0, 3, func(_ int, c *conversation.Conversation) {
		c.Status = conversation.StatusQueued
		c.TeamID = "team-1"
	})
	c1, c2, c3 := cs[0].ID, cs[1].ID, cs[2].ID
	_, err := s.UpdateConversation(ctx, c2, func(c *conversation.Conversation) error {
		c.TeamID = "team-2"
		c.AssigneeID = "rm-9"
		return c.Transition(conversation.StatusOffered, at(50))
	})
	must(t, "offer c2", err)
	_, err = s.UpdateConversation(ctx, c3, func(c *conversation.Conversation) error {
		return c.Escalate(conversation.ChannelVoice, conversation.Address{Kind: conversation.AddressPhone, Value: "+8613800138000"}, at(60))
	})
	must(t, "escalate c3", err)

	type check struct {
		f    state.ConversationFilter
		want []conversation.ConversationID
	}
	run := func(stage string, checks []check) {
		t.Helper()
		for _, ch := range checks {
			got, _ := listAll(t, s, ch.f)
			wantIDs(t, fmt.Sprintf("%s, filter %+v", stage, ch.f), got, ch.want)
		}
	}
	run("after offer and escalation", []check{
		{state.ConversationFilter{Status: conversation.StatusQueued, Limit: 10}, []conversation.ConversationID{c3, c1}},
		{state.ConversationFilter{Status: conversation.StatusOffered, Limit: 10}, []conversation.ConversationID{c2}},
		{state.ConversationFilter{TeamID: "team-1", Limit: 10}, []conversation.ConversationID{c3, c1}},
		{state.ConversationFilter{TeamID: "team-2", Limit: 10}, []conversation.ConversationID{c2}},
		{state.ConversationFilter{AssigneeID: "rm-9", Limit: 10}, []conversation.ConversationID{c2}},
		{state.ConversationFilter{Channel: conversation.ChannelSMS, Limit: 10}, []conversation.ConversationID{c2, c1}},
		{state.ConversationFilter{Channel: conversation.ChannelVoice, Limit: 10}, []conversation.ConversationID{c3}},
		{state.ConversationFilter{Status: conversation.StatusQueued, TeamID: "team-1", Limit: 1}, []conversation.ConversationID{c3, c1}},
	})

	_, err = s.UpdateConversation(ctx, c2, func(c *conversation.Conversation) error {
		c.AssigneeID = ""
		return c.Transition(conversation.StatusQueued, at(70))
	})
	must(t, "requeue c2", err)
	run("after requeue", []check{
		{state.ConversationFilter{Status: conversation.StatusOffered, Limit: 10}, nil},
		{state.ConversationFilter{AssigneeID: "rm-9", Limit: 10}, nil},
		{state.ConversationFilter{Status: conversation.StatusQueued, Limit: 10}, []conversation.ConversationID{c3, c2, c1}},
		{state.ConversationFilter{Status: conversation.StatusQueued, TeamID: "team-2", Limit: 10}, []conversation.ConversationID{c2}},
	})
}

func testListLimits(t *testing.T, s state.Store) {
	ctx := t.Context()
	all := createMany(t, s, 0, state.DefaultListLimit+5, nil)
	want := newestFirst(all, func(*conversation.Conversation) bool { return true })

	page, err := s.ListConversations(ctx, state.ConversationFilter{})
	must(t, "default page", err)
	if len(page.Items) != state.DefaultListLimit || page.NextCursor == "" {
		t.Fatalf("default page: %d items, cursor %q; want %d and a cursor", len(page.Items), page.NextCursor, state.DefaultListLimit)
	}
	rest, err := s.ListConversations(ctx, state.ConversationFilter{Cursor: page.NextCursor})
	must(t, "second page", err)
	if len(rest.Items) != 5 || rest.NextCursor != "" || rest.Items[4].ID != want[len(want)-1] {
		t.Fatalf("second page: %d items, cursor %q; want the 5 oldest and no cursor", len(rest.Items), rest.NextCursor)
	}
	full, err := s.ListConversations(ctx, state.ConversationFilter{Limit: state.MaxListLimit})
	must(t, "max page", err)
	if len(full.Items) != len(all) || full.NextCursor != "" {
		t.Fatalf("max page: %d items, cursor %q; want %d and none", len(full.Items), full.NextCursor, len(all))
	}

	for _, f := range []state.ConversationFilter{
		{Limit: -1},
		{Limit: state.MaxListLimit + 1},
		{Status: "parked"},
		{Channel: "fax"},
	} {
		_, err := s.ListConversations(ctx, f)
		wantErr(t, fmt.Sprintf("filter %+v", f), err, conversation.ErrInvalid)
	}
}
