package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

var (
	now    = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	secret = []byte("api-test-secret-of-at-least-32-bytes")
)

// The callers of the tests.
var (
	rmPB1  = auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}
	rmPB2  = auth.Principal{Subject: "rm-pb-02", Role: auth.RoleRM, Team: "private_bank"}
	rmMass = auth.Principal{Subject: "rm-mass-01", Role: auth.RoleRM, Team: "mass"}
	rmWA   = auth.Principal{Subject: "rm-wa-01", Role: auth.RoleRM, Team: "wealth"}
	supPB  = auth.Principal{Subject: "sup-pb", Role: auth.RoleSupervisor, Team: "private_bank"}
	supMS  = auth.Principal{Subject: "sup-mass", Role: auth.RoleSupervisor, Team: "mass"}
	supWA  = auth.Principal{Subject: "sup-wa", Role: auth.RoleSupervisor, Team: "wealth"}
	supAll = auth.Principal{Subject: "sup-all", Role: auth.RoleSupervisor}
	admin  = auth.Principal{Subject: "ops-1", Role: auth.RoleAdmin}
)

// clearPhones are the phone numbers the tests use, in the forms they are
// written; none may appear in a log line.
var clearPhones = []string{"+85291234567", "91234567", "9123 4567", "+85261234567", "61234567", "+85251234567", "51234567", "+85255501234", "55501234", "5550 1234", "+85255507777", "55507777", "5550 7777", "5550 12"}

func testDirectory(t *testing.T) *directory.Static {
	t.Helper()
	teams := []conversation.Team{
		{ID: "private_bank", Name: "Private bank", Kind: conversation.TeamSegment, Segment: conversation.SegmentPrivate, TimeZone: "Asia/Hong_Kong"},
		{ID: "mass", Name: "Mass", Kind: conversation.TeamSegment, Segment: conversation.SegmentMass, TimeZone: "Asia/Hong_Kong"},
		{ID: "wealth", Name: "Wealth advisers", Kind: conversation.TeamSpecialist, TimeZone: "Asia/Hong_Kong"},
	}
	rms := []conversation.RM{
		{ID: "rm-pb-01", TeamID: "private_bank", Languages: []string{"yue", "en"}, Capacity: 100},
		{ID: "rm-pb-02", TeamID: "private_bank", Languages: []string{"en"}, Capacity: 100},
		{ID: "rm-mass-01", TeamID: "mass", Languages: []string{"yue"}, Capacity: 100},
		{ID: "rm-mass-02", TeamID: "mass", Languages: []string{"yue"}, Capacity: 100},
		{ID: "rm-wa-01", TeamID: "wealth", Languages: []string{"en"}, Capacity: 100},
	}
	customers := []conversation.Customer{
		{ID: "cus-0001", DisplayName: "Chan Tai Man", Segment: conversation.SegmentPrivate, OwnRM: "rm-pb-01", PreferredLanguage: "yue",
			Verification: conversation.VerificationBasic,
			Addresses:    []conversation.Address{{Kind: conversation.AddressPhone, Value: "+85291234567"}, {Kind: conversation.AddressApp, Value: "app-0001"}}},
		{ID: "cus-0002", DisplayName: "Wong Siu Ming", Segment: conversation.SegmentMass, Verification: conversation.VerificationBasic,
			Addresses: []conversation.Address{{Kind: conversation.AddressPhone, Value: "+85261234567"}, {Kind: conversation.AddressWeChat, Value: "oJlus55nABCDEF0002"}}},
		{ID: "cus-0003", DisplayName: "Lee Ka Yan", Segment: conversation.SegmentAffluent, DeputyRM: "rm-mass-02", Verification: conversation.VerificationBasic,
			Addresses: []conversation.Address{{Kind: conversation.AddressPhone, Value: "+85251234567"}}},
		{ID: "cus-0004", DisplayName: "Harbour Trading Ltd", Segment: conversation.SegmentSmallBusiness, Verification: conversation.VerificationStrong,
			Addresses: []conversation.Address{{Kind: conversation.AddressApp, Value: "app-0004"}}},
	}
	d, err := directory.NewStatic(teams, rms, customers)
	if err != nil {
		t.Fatalf("directory: %v", err)
	}
	return d
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// faultyStore is a state.Store whose methods are replaced by the non-nil
// func fields, to make the store fail or panic.
type faultyStore struct {
	state.Store
	conversation       func(context.Context, conversation.ConversationID) (conversation.Conversation, error)
	listConversations  func(context.Context, state.ConversationFilter) (state.ConversationPage, error)
	createConversation func(context.Context, conversation.Conversation) (conversation.Conversation, error)
	appendEvent        func(context.Context, conversation.Event) error
	events             func(context.Context, conversation.ConversationID) ([]conversation.Event, error)
	customer           func(context.Context, conversation.CustomerID) (conversation.Customer, error)
	customerByAddress  func(context.Context, conversation.Address) (conversation.Customer, error)
}

func (f *faultyStore) Conversation(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	if f.conversation != nil {
		return f.conversation(ctx, id)
	}
	return f.Store.Conversation(ctx, id)
}

func (f *faultyStore) ListConversations(ctx context.Context, fl state.ConversationFilter) (state.ConversationPage, error) {
	if f.listConversations != nil {
		return f.listConversations(ctx, fl)
	}
	return f.Store.ListConversations(ctx, fl)
}

func (f *faultyStore) CreateConversation(ctx context.Context, c conversation.Conversation) (conversation.Conversation, error) {
	if f.createConversation != nil {
		return f.createConversation(ctx, c)
	}
	return f.Store.CreateConversation(ctx, c)
}

func (f *faultyStore) AppendEvent(ctx context.Context, e conversation.Event) error {
	if f.appendEvent != nil {
		return f.appendEvent(ctx, e)
	}
	return f.Store.AppendEvent(ctx, e)
}

func (f *faultyStore) Events(ctx context.Context, id conversation.ConversationID) ([]conversation.Event, error) {
	if f.events != nil {
		return f.events(ctx, id)
	}
	return f.Store.Events(ctx, id)
}

func (f *faultyStore) Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	if f.customer != nil {
		return f.customer(ctx, id)
	}
	return f.Store.Customer(ctx, id)
}

func (f *faultyStore) CustomerByAddress(ctx context.Context, a conversation.Address) (conversation.Customer, error) {
	if f.customerByAddress != nil {
		return f.customerByAddress(ctx, a)
	}
	return f.Store.CustomerByAddress(ctx, a)
}

// env is one API served on 127.0.0.1 over a memory store seeded with the
// conversations of seed, and the log it writes.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *faultyStore
	logs  *syncBuffer
	convs map[string]conversation.Conversation
}

// newEnv starts the API with MaxBodyBytes 2048. edit may replace store
// methods before the server starts.
func newEnv(t *testing.T, edit func(*faultyStore)) *env {
	t.Helper()
	store := &faultyStore{Store: state.NewMemory()}
	e := &env{t: t, store: store, logs: &syncBuffer{}}
	e.convs = seed(t, store.Store)
	if edit != nil {
		edit(store)
	}
	dir := testDirectory(t)
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{
		Store:        store,
		Directory:    dir,
		Resolver:     identity.NewResolver(dir, store, "HK"),
		Verifier:     v,
		Logger:       slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxBodyBytes: 2048,
		Now:          func() time.Time { return now },
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.Close()
		out := e.logs.String()
		for _, p := range clearPhones {
			if strings.Contains(out, p) {
				t.Errorf("the log shows phone number %q in clear:\n%s", p, out)
			}
		}
	})
	return e
}

// seed stores six conversations, A (oldest) to F (newest):
//
//	A cus-0001 voice   private_bank  active   assigned rm-pb-01
//	B cus-0002 sms     mass          queued   (one inbound message)
//	C cus-0001 video   private_bank  active   assigned rm-pb-02, specialist rm-wa-01
//	D cus-0004 webchat mass          active   assigned rm-wa-01
//	E cus-0003 voice   (no team)     new
//	F cus-0002 wechat  mass          active   rm-pb-02 took part and left
func seed(t *testing.T, s state.Store) map[string]conversation.Conversation {
	t.Helper()
	ctx := context.Background()
	dir := testDirectory(t)
	cust := func(id conversation.CustomerID) conversation.Customer {
		c, err := dir.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type spec struct {
		name     string
		customer conversation.CustomerID
		channel  conversation.Channel
		addr     conversation.AddressKind
		team     conversation.TeamID
		status   conversation.Status
		assignee conversation.RMID
	}
	specs := []spec{
		{"A", "cus-0001", conversation.ChannelVoice, conversation.AddressPhone, "private_bank", conversation.StatusActive, "rm-pb-01"},
		{"B", "cus-0002", conversation.ChannelSMS, conversation.AddressPhone, "mass", conversation.StatusQueued, ""},
		{"C", "cus-0001", conversation.ChannelVideo, conversation.AddressApp, "private_bank", conversation.StatusActive, "rm-pb-02"},
		{"D", "cus-0004", conversation.ChannelWebChat, conversation.AddressApp, "mass", conversation.StatusActive, "rm-wa-01"},
		{"E", "cus-0003", conversation.ChannelVoice, conversation.AddressPhone, "", conversation.StatusNew, ""},
		{"F", "cus-0002", conversation.ChannelWeChat, conversation.AddressWeChat, "mass", conversation.StatusActive, ""},
	}
	out := make(map[string]conversation.Conversation)
	for i, sp := range specs {
		at := now.Add(time.Duration(i-10) * time.Minute)
		c := cust(sp.customer)
		addr, ok := c.Address(sp.addr)
		if !ok {
			t.Fatalf("seed %s: customer %s has no %s address", sp.name, c.ID, sp.addr)
		}
		conv := conversation.New(c, sp.channel, addr, at)
		conv.TeamID, conv.Status, conv.AssigneeID = sp.team, sp.status, sp.assignee
		if sp.assignee != "" {
			conv.Join(conversation.RoleRM, string(sp.assignee), at)
		}
		switch sp.name {
		case "C":
			conv.Join(conversation.RoleSpecialist, "rm-wa-01", at)
		case "F":
			conv.Join(conversation.RoleRM, "rm-pb-02", at)
			conv.Leave(conversation.RoleRM, "rm-pb-02", at.Add(time.Second))
		}
		stored, err := s.CreateConversation(ctx, conv)
		if err != nil {
			t.Fatalf("seed %s: %v", sp.name, err)
		}
		ev := conversation.NewEvent(stored.ID, conversation.EventStatusChanged, "system", at)
		ev.ToStatus = conversation.StatusNew
		if err := s.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if sp.name == "B" {
			m := conversation.Message{ID: conversation.NewMessageID(at), ConversationID: stored.ID, Channel: conversation.ChannelSMS,
				Direction: conversation.Inbound, Sender: string(c.ID), Text: "balance please", ProviderID: "SM0001",
				Status: conversation.DeliveryDelivered, CreatedAt: at, UpdatedAt: at}
			if _, _, err := s.AppendMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		out[sp.name] = stored
	}
	return out
}

// token returns a bearer token for p valid at now.
func token(t *testing.T, p auth.Principal) string {
	t.Helper()
	tok, err := auth.Issue(secret, p, time.Hour, now.Add(-time.Minute))
	if err != nil {
		t.Fatalf("Issue(%+v): %v", p, err)
	}
	return tok
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the code of an error body, or "".
func (r response) errorCode() string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// request is one call to the API.
type request struct {
	method, path string
	caller       *auth.Principal // nil: no Authorization header
	body         string
	contentType  string // default application/json when body is set
	header       map[string]string
}

// do sends req and checks what every answer must satisfy: a request id,
// a JSON error body for every error status, and no Go stack trace.
func (e *env) do(req request) response {
	e.t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	hr, err := http.NewRequest(req.method, e.srv.URL+req.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if req.caller != nil {
		hr.Header.Set("Authorization", "Bearer "+token(e.t, *req.caller))
	}
	switch {
	case req.contentType == "-":
	case req.contentType != "":
		hr.Header.Set("Content-Type", req.contentType)
	case req.body != "":
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.Header.Get("X-Request-ID") == "" {
		e.t.Errorf("%s %s: no X-Request-ID", req.method, req.path)
	}
	for _, trace := range []string{"goroutine ", ".go:", "runtime/", "panic("} {
		if bytes.Contains(b, []byte(trace)) {
			e.t.Errorf("%s %s: the body shows a stack trace (%q): %s", req.method, req.path, trace, b)
		}
	}
	if r.status >= 400 && r.errorCode() == "" {
		e.t.Errorf("%s %s: status %d without a JSON error body: %s", req.method, req.path, r.status, b)
	}
	return r
}

// decode unmarshals the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func as(p auth.Principal) *auth.Principal { return &p }
