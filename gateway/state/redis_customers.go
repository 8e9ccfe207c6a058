package state

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

func (r *Redis) customerKey(id conversation.CustomerID) string {
	return r.prefix + "customer:" + string(id)
}

func (r *Redis) addrKey(a conversation.Address) string { return r.prefix + "addr:" + a.Key() }

// CreateProspect stores c and links each of its addresses to it in one
// script, which links the first address with SET-if-absent semantics: when
// a customer is already linked to c.Addresses[0] it returns that customer
// and false. Errors: ErrExists if c.ID is taken by a customer on other
// addresses, a conversation.ErrInvalid error if c does not validate or has
// no address, ErrUnavailable.
func (r *Redis) CreateProspect(ctx context.Context, c conversation.Customer) (conversation.Customer, bool, error) {
	if err := validateCustomer(c); err != nil {
		return conversation.Customer{}, false, fmt.Errorf("redis create prospect: %w", err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return conversation.Customer{}, false, fmt.Errorf("redis create prospect %s: encode: %w", c.ID, err)
	}
	keys := make([]string, 0, 1+len(c.Addresses))
	keys = append(keys, r.customerKey(c.ID))
	for _, a := range c.Addresses {
		keys = append(keys, r.addrKey(a))
	}
	res, err := r.scripts.createProspect.Run(ctx, r.client, keys, string(c.ID), data, r.prefix+"customer:").Result()
	if err != nil {
		return conversation.Customer{}, false, redisErr("create prospect "+string(c.ID), err)
	}
	arr, err := scriptReply("create prospect", res)
	if err != nil {
		return conversation.Customer{}, false, err
	}
	switch replyInt(arr, 0) {
	case 1:
		return cloneCustomer(c), true, nil
	case 0:
		existing, err := decodeCustomer([]byte(replyString(arr, 1)))
		return existing, false, err
	default:
		return conversation.Customer{}, false, fmt.Errorf("redis create prospect %s: %w", c.ID, ErrExists)
	}
}

func decodeCustomer(data []byte) (conversation.Customer, error) {
	var c conversation.Customer
	if err := json.Unmarshal(data, &c); err != nil {
		return conversation.Customer{}, fmt.Errorf("redis customer: decode: %w", err)
	}
	return c, nil
}

// Customer returns the customer with id, or ErrNotFound.
func (r *Redis) Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	data, err := r.client.Get(ctx, r.customerKey(id)).Bytes()
	if err != nil {
		return conversation.Customer{}, redisErr("customer "+string(id), err)
	}
	return decodeCustomer(data)
}

// CustomerByAddress returns the customer linked to addr, or ErrNotFound.
func (r *Redis) CustomerByAddress(ctx context.Context, addr conversation.Address) (conversation.Customer, error) {
	id, err := r.client.Get(ctx, r.addrKey(addr)).Result()
	if err != nil {
		return conversation.Customer{}, redisErr("customer by address "+addr.String(), err)
	}
	return r.Customer(ctx, conversation.CustomerID(id))
}
