package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// httpClient is every client's: no keep-alive pooling surprises across a
// killed instance (each request may reach either one).
var httpClient = &http.Client{Timeout: 15 * time.Second}

// api calls the REST API through base with a bearer token and decodes a
// JSON object answer (nil for an empty or non-JSON body).
func api(method, base, path, token string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out, nil
}

// conv is a conversation as the API reads it, with its messages.
type conv struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customer_id"`
	Segment     string    `json:"segment"`
	Channel     string    `json:"channel"`
	Account     string    `json:"channel_account"`
	Status      string    `json:"status"`
	TeamID      string    `json:"team_id"`
	AssigneeID  string    `json:"assignee_id"`
	Disposition string    `json:"disposition"`
	CreatedAt   time.Time `json:"created_at"`
	Messages    []msg     `json:"messages"`
}

// msg is a stored message.
type msg struct {
	ID         string `json:"id"`
	Channel    string `json:"channel"`
	Account    string `json:"channel_account"`
	Direction  string `json:"direction"`
	Sender     string `json:"sender"`
	Text       string `json:"text"`
	ProviderID string `json:"provider_id"`
	Status     string `json:"status"`
}

// admin is an API client with an admin token, through the balancer.
type admin struct {
	c     *cluster
	token string
}

func (c *cluster) admin(t testing.TB) *admin {
	t.Helper()
	tok, err := c.token("admin", "ops-e2e")
	if err != nil {
		t.Fatal(err)
	}
	return &admin{c: c, token: tok}
}

// get decodes a GET of path into v, retrying a 502 or 503 (an instance
// going away) for up to 10 s.
func (a *admin) get(path string, v any) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, a.c.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+a.token)
		res, err := httpClient.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return json.Unmarshal(raw, v)
			}
			err = fmt.Errorf("GET %s: %d %s", path, res.StatusCode, raw)
			if res.StatusCode != http.StatusBadGateway && res.StatusCode != http.StatusServiceUnavailable {
				return err
			}
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// conversations lists a customer's conversations (newest first, as the
// API lists them), without messages.
func (a *admin) conversations(customer string) ([]conv, error) {
	var page struct {
		Items []conv `json:"items"`
	}
	err := a.get("/api/v1/conversations?customer="+url.QueryEscape(customer)+"&limit=200", &page)
	return page.Items, err
}

// conversation reads one conversation with its messages.
func (a *admin) conversation(id string) (conv, error) {
	var c conv
	err := a.get("/api/v1/conversations/"+url.PathEscape(id), &c)
	return c, err
}

// decisions returns the sentences of a conversation's routing decisions,
// newest first (as the API lists them).
func (a *admin) decisions(id string) ([]string, error) {
	var page struct {
		Items []struct {
			Sentence string `json:"sentence"`
		} `json:"items"`
	}
	if err := a.get("/api/v1/conversations/"+url.PathEscape(id)+"/decisions", &page); err != nil {
		return nil, err
	}
	var out []string
	for _, d := range page.Items {
		out = append(out, d.Sentence)
	}
	return out, nil
}

// eventually polls cond every 100 ms until it returns nil or within
// passes, failing the test with cond's last error.
func eventually(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
