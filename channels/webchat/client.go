package webchat

import (
	"errors"
	"net/http"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Client is the web chat client a request's bearer token names: the
// customer (from the directory, or a prospect) and the app address they
// chat from.
type Client struct {
	Customer  conversation.Customer
	Address   conversation.Address
	Anonymous bool
}

// Authenticate verifies r's bearer token as /ws/chat does, for endpoints
// beside the chat that act for its client (e.g. asking for video). On
// failure it returns the HTTP status to answer: 401 without a valid
// token, 403 for a customer without an app_user address, 503 when the
// customer cannot be resolved now.
func (a *Adapter) Authenticate(r *http.Request) (Client, int, error) {
	c, err := a.authenticate(r)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return Client{}, he.status, err
		}
		return Client{}, http.StatusServiceUnavailable, err
	}
	return Client{Customer: c.customer, Address: c.addr, Anonymous: c.Anonymous}, 0, nil
}
