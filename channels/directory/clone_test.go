package directory

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// fullEntries returns one team, RM and customer with every slice and map
// field filled (TestStaticReturnsCopies checks that it stays so when the
// types gain fields).
func fullEntries() ([]conversation.Team, []conversation.RM, []conversation.Customer) {
	teams := []conversation.Team{{
		ID: "private_bank", Name: "Private bank", Kind: conversation.TeamSegment, Segment: conversation.SegmentPrivate, TimeZone: "Asia/Hong_Kong",
		Hours:    []conversation.WorkingHours{{Days: []string{"mon", "tue"}, Open: "09:00", Close: "18:00"}},
		Holidays: []string{"2026-12-25"},
	}}
	rms := []conversation.RM{{
		ID: "rm-pb-01", Name: "Helen", TeamID: "private_bank", Capacity: 100,
		Skills:    map[string]int{"wealth": 5},
		Languages: []string{"yue", "en"},
		Licences:  []conversation.Licence{{Name: "investment_advice", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}}
	customers := []conversation.Customer{{
		ID: "cus-1", Segment: conversation.SegmentPrivate, OwnRM: "rm-pb-01",
		Addresses: []conversation.Address{{Kind: conversation.AddressPhone, Value: "+85255500001"}},
	}}
	return teams, rms, customers
}

// TestStaticReturnsCopies changes everything every lookup returns, inside
// slices and maps too, and checks the directory still answers what it was
// given; and that changing what NewStatic was given does not reach it.
func TestStaticReturnsCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	teams, rms, customers := fullEntries()
	wantTeam, wantRM, wantCustomer := fullEntries()
	d, err := NewStatic(teams, rms, customers)
	if err != nil {
		t.Fatal(err)
	}
	// The caller's own values change after the directory was built.
	poison(reflect.ValueOf(&teams).Elem())
	poison(reflect.ValueOf(&rms).Elem())
	poison(reflect.ValueOf(&customers).Elem())

	phone := wantCustomer[0].Addresses[0]
	lookups := []struct {
		name string
		get  func() (any, error)
		want any
	}{
		{"Customer", func() (any, error) { return d.Customer(ctx, "cus-1") }, wantCustomer[0]},
		{"CustomerByAddress", func() (any, error) { return d.CustomerByAddress(ctx, phone) }, wantCustomer[0]},
		{"RM", func() (any, error) { return d.RM(ctx, "rm-pb-01") }, wantRM[0]},
		{"Team", func() (any, error) { return d.Team(ctx, "private_bank") }, wantTeam[0]},
		{"RMs", func() (any, error) { return d.RMs(ctx) }, wantRM},
		{"Teams", func() (any, error) { return d.Teams(ctx) }, wantTeam},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			got, err := l.get()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, l.want) {
				t.Fatalf("%s = %+v, want %+v (the directory kept the caller's slices or maps)", l.name, got, l.want)
			}
			if missing := unfilled(reflect.ValueOf(got), l.name); len(missing) > 0 {
				t.Fatalf("fullEntries leaves %v empty; fill them so their copies are tested", missing)
			}
			// got is a copy in an interface: change a settable copy of it.
			mut := reflect.New(reflect.TypeOf(got)).Elem()
			mut.Set(reflect.ValueOf(got))
			poison(mut)
			again, err := l.get()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, l.want) {
				t.Fatalf("after the caller changed its copy, %s = %+v, want %+v", l.name, again, l.want)
			}
		})
	}
}

// TestStaticConcurrentCallers has callers change what they get while
// others read: under -race a shared slice or map is reported.
func TestStaticConcurrentCallers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := NewStatic(fullEntries())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				rm, _ := d.RM(ctx, "rm-pb-01")
				poison(reflect.ValueOf(&rm).Elem())
				team, _ := d.Team(ctx, "private_bank")
				poison(reflect.ValueOf(&team).Elem())
				c, _ := d.Customer(ctx, "cus-1")
				poison(reflect.ValueOf(&c).Elem())
			}
		})
	}
	wg.Wait()
	_, want, _ := fullEntries()
	if got, _ := d.RM(ctx, "rm-pb-01"); !reflect.DeepEqual(got, want[0]) {
		t.Fatalf("RM = %+v, want %+v", got, want[0])
	}
}

// poison changes every settable value reachable from v: strings get a
// suffix, numbers grow, booleans flip, slice elements change in place and
// maps gain a key.
func poison(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "-poisoned")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				poison(f)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			poison(v.Index(i))
		}
	case reflect.Map:
		k := reflect.New(v.Type().Key()).Elem()
		poison(k)
		e := reflect.New(v.Type().Elem()).Elem()
		poison(e)
		v.SetMapIndex(k, e)
	}
}

// unfilled lists the slice and map fields reachable from v that are
// empty, as paths like "Team.Hours[0].Days".
func unfilled(v reflect.Value, path string) []string {
	var out []string
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = append(out, unfilled(v.Field(i), path+"."+v.Type().Field(i).Name)...)
			}
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		if v.Kind() == reflect.Slice {
			for i := range v.Len() {
				out = append(out, unfilled(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return out
}
