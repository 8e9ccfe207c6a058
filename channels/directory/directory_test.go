package directory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestStaticLookups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	phone := conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500001"}
	d, err := NewStatic(
		[]conversation.Team{{ID: "private_bank", Kind: conversation.TeamSegment, Segment: conversation.SegmentPrivate}, {ID: "affluent"}},
		[]conversation.RM{{ID: "rm-pb-02", TeamID: "private_bank"}, {ID: "rm-pb-01", TeamID: "private_bank", Deputy: "rm-pb-02"}},
		[]conversation.Customer{{ID: "cus-1", Segment: conversation.SegmentPrivate, OwnRM: "rm-pb-01", DeputyRM: "rm-pb-02", Addresses: []conversation.Address{phone}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.CustomerByAddress(ctx, phone)
	if err != nil || c.ID != "cus-1" {
		t.Fatalf("by address: %v %v", c.ID, err)
	}
	if _, err := d.CustomerByAddress(ctx, conversation.Address{Kind: conversation.AddressPhone, Value: "+85255509999"}); !errors.Is(err, ErrNotFound) || !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("unknown address: %v", err)
	}
	rms, _ := d.RMs(ctx)
	if len(rms) != 2 || rms[0].ID != "rm-pb-01" {
		t.Fatalf("RMs not ordered by id: %+v", rms)
	}
	rms[0].ID = "mutated"
	if again, _ := d.RMs(ctx); again[0].ID != "rm-pb-01" {
		t.Fatal("RMs returned the directory's own slice")
	}
	if _, err := d.Team(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown team: %v", err)
	}
}

func TestStaticRejectsInconsistentEntries(t *testing.T) {
	t.Parallel()
	addr := conversation.Address{Kind: conversation.AddressWeChat, Value: "oABCDEFGH123"}
	_, err := NewStatic(
		[]conversation.Team{{ID: "t1"}, {ID: "t1"}},
		[]conversation.RM{{ID: "rm-1", TeamID: "t9", Deputy: "rm-x"}},
		[]conversation.Customer{
			{ID: "c1", OwnRM: "rm-404", Addresses: []conversation.Address{addr}},
			{ID: "c2", Addresses: []conversation.Address{addr}},
		},
	)
	if err == nil || !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"team t1 defined twice", `unknown team "t9"`, `unknown deputy "rm-x"`, `unknown rm "rm-404"`, "already belongs to customer c1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
