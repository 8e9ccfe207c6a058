package sip

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// registrars returns every Registrar implementation to run the contract
// on: memory, Redis on miniredis, and a real Redis when
// AIRBRANCH_TEST_REDIS_URL is set (keys under a unique prefix, deleted
// afterwards).
func registrars(t *testing.T) map[string]func(t *testing.T) Registrar {
	return map[string]func(t *testing.T) Registrar{
		"memory": func(*testing.T) Registrar { return NewMemoryRegistrar() },
		"miniredis": func(t *testing.T) Registrar {
			mr := miniredis.RunT(t)
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { rdb.Close() })
			return NewRedisRegistrar(rdb, "test:")
		},
		"redis": func(t *testing.T) Registrar {
			url := os.Getenv("AIRBRANCH_TEST_REDIS_URL")
			if url == "" {
				t.Skip("AIRBRANCH_TEST_REDIS_URL not set")
			}
			opt, err := redis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			prefix := fmt.Sprintf("test:sipreg:%d:", time.Now().UnixNano())
			if err := rdb.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("redis at %s: %v", url, err)
			}
			t.Cleanup(func() {
				ctx := context.Background()
				iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
				for iter.Next(ctx) {
					rdb.Del(ctx, iter.Val())
				}
				rdb.Close()
			})
			return NewRedisRegistrar(rdb, prefix)
		},
	}
}

func TestRegistrarContract(t *testing.T) {
	t.Parallel()
	for name, mk := range registrars(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := mk(t)
			ctx := context.Background()
			now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			rm := conversation.RMID("rm-pb-01")
			put := func(contact string, updated time.Time, ttl time.Duration) {
				t.Helper()
				if err := r.Put(ctx, Binding{RM: rm, Contact: contact, Source: "127.0.0.1:5062", Transport: "UDP", CallID: "c1", CSeq: 1, Expires: updated.Add(ttl), UpdatedAt: updated}); err != nil {
					t.Fatal(err)
				}
			}
			contacts := func(at time.Time) []string {
				t.Helper()
				bs, err := r.Bindings(ctx, rm, at)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, b := range bs {
					out = append(out, b.Contact)
				}
				return out
			}
			if got := contacts(now); len(got) != 0 {
				t.Fatalf("empty registrar has %v", got)
			}
			put("sip:a@127.0.0.1:5062", now, time.Hour)
			put("sip:b@127.0.0.1:5064", now.Add(time.Second), 10*time.Minute)
			if err := r.Put(ctx, Binding{RM: "rm-other", Contact: "sip:x@127.0.0.1", Expires: now.Add(time.Hour), UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(contacts(now.Add(2 * time.Second))); got != "[sip:b@127.0.0.1:5064 sip:a@127.0.0.1:5062]" {
				t.Errorf("newest first: %s", got)
			}
			// Refreshing a moves it first; b expires after 10 minutes.
			put("sip:a@127.0.0.1:5062", now.Add(time.Minute), time.Hour)
			if got := fmt.Sprint(contacts(now.Add(2 * time.Minute))); got != "[sip:a@127.0.0.1:5062 sip:b@127.0.0.1:5064]" {
				t.Errorf("after refresh: %s", got)
			}
			if got := fmt.Sprint(contacts(now.Add(11 * time.Minute))); got != "[sip:a@127.0.0.1:5062]" {
				t.Errorf("after b expired: %s", got)
			}
			bs, _ := r.Bindings(ctx, rm, now.Add(2*time.Minute))
			if len(bs) != 1 || bs[0].Source != "127.0.0.1:5062" || bs[0].Transport != "UDP" || bs[0].CallID != "c1" || !bs[0].Expires.Equal(now.Add(61*time.Minute)) {
				t.Errorf("binding fields %+v", bs)
			}
			if err := r.Remove(ctx, rm, "sip:a@127.0.0.1:5062"); err != nil {
				t.Fatal(err)
			}
			if err := r.Remove(ctx, rm, "sip:missing@127.0.0.1"); err != nil {
				t.Errorf("removing a missing binding: %v", err)
			}
			if got := contacts(now); len(got) != 0 {
				t.Errorf("after remove: %v", got)
			}
			if err := r.RemoveAll(ctx, "rm-other"); err != nil {
				t.Fatal(err)
			}
			if bs, _ := r.Bindings(ctx, "rm-other", now); len(bs) != 0 {
				t.Errorf("after remove all: %v", bs)
			}
		})
	}
}
