package router

import (
	"testing"

	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// redisStore returns a Redis store under a key prefix of its own (see
// statetest.OpenRedis).
func redisStore(t *testing.T) state.Store { return statetest.OpenRedis(t, "abrt") }
