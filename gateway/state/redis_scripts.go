package state

import "github.com/redis/go-redis/v9"

// The Lua scripts of the Redis store. Each runs atomically on the server,
// which is what makes insert-if-absent, compare-and-set and "one live offer
// per conversation" hold across gateway instances. They are sent with
// EVALSHA and fall back to EVAL when the server does not know them yet
// (redis.Script.Run). Declared keys are passed in KEYS; the two scripts
// that must read a record found through a pointer (the first copy of a
// duplicate message, the customer already linked to an address) build that
// key from a prefix in ARGV. Every key carries the store's hash tag, so
// those keys are in the same hash slot as the declared ones, which Redis
// Cluster requires and allows.
//
// Scripts that create or replace a record store a write token (field n)
// and return it when they refuse: a command that go-redis re-sent after a
// lost reply finds its own token and is reported as the success it was.

// createConversationLua: KEYS[1] conversation hash, KEYS[2..] index sets
// to join. ARGV: id, JSON, write token, the index sets' names after the
// prefix as a JSON array (field x, which the commit script reads to know
// which sets to leave). Returns {1} when stored, {0, token} when the id is
// taken.
const createConversationLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGET', KEYS[1], 'n')}
end
redis.call('HSET', KEYS[1], 'j', ARGV[2], 'v', '1', 'n', ARGV[3], 'x', ARGV[4])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 0, ARGV[1])
end
return {1}
`

// updateConversationLua: KEYS[1] conversation hash, KEYS[2..1+ARGV[5]]
// index sets to leave, the rest index sets to join. ARGV: id, expected
// version, new version, JSON, number of sets to leave, write token, the
// new index set names (field x, as for createConversationLua).
// Returns {1} when written, {0} when the conversation is missing, {2,
// token} when the stored version is not the expected one.
const updateConversationLua = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then
  return {0}
end
if v ~= ARGV[2] then
  return {2, redis.call('HGET', KEYS[1], 'n')}
end
redis.call('HSET', KEYS[1], 'j', ARGV[4], 'v', ARGV[3], 'n', ARGV[6], 'x', ARGV[7])
local leave = tonumber(ARGV[5])
for i = 2, 1 + leave do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
for i = 2 + leave, #KEYS do
  redis.call('ZADD', KEYS[i], 0, ARGV[1])
end
return {1}
`

// appendMessageLua: KEYS[1] message hash, KEYS[2] the conversation's
// message list, KEYS[3] (only for messages with a provider id) the
// idempotency key. ARGV: id, JSON, status, error code, updated at, write
// token, message key prefix. Returns {1} when stored; {0, j, s, e, u, n}
// of the first copy when the idempotency key exists; {-1, n} when the
// message id is taken.
const appendMessageLua = `
if KEYS[3] then
  local first = redis.call('GET', KEYS[3])
  if first then
    local f = redis.call('HMGET', ARGV[7] .. first, 'j', 's', 'e', 'u', 'n')
    return {0, f[1], f[2], f[3], f[4], f[5]}
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {-1, redis.call('HGET', KEYS[1], 'n')}
end
redis.call('HSET', KEYS[1], 'j', ARGV[2], 's', ARGV[3], 'e', ARGV[4], 'u', ARGV[5], 'n', ARGV[6])
redis.call('RPUSH', KEYS[2], ARGV[1])
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[1])
end
return {1}
`

// advanceMessageLua: KEYS[1] message hash. ARGV: new status, error code,
// updated at. The ranks mirror conversation.Message.Advance: queued <
// sent < delivered = failed < read, nothing follows failed, and the error
// code is kept only with failed. Returns {-1} when the message is missing,
// else {changed (0 or 1), j, s, e, u}.
const advanceMessageLua = `
local rank = {queued = 0, sent = 1, delivered = 2, read = 3, failed = 2}
local cur = redis.call('HGET', KEYS[1], 's')
if not cur then
  return {-1}
end
local to = ARGV[1]
local changed = 0
if cur ~= 'failed' and rank[to] > (rank[cur] or -1) then
  if to == 'failed' then
    redis.call('HSET', KEYS[1], 's', to, 'e', ARGV[2], 'u', ARGV[3])
  else
    redis.call('HSET', KEYS[1], 's', to, 'u', ARGV[3])
  end
  changed = 1
end
local f = redis.call('HMGET', KEYS[1], 'j', 's', 'e', 'u')
return {changed, f[1], f[2], f[3], f[4]}
`

// luaDropOffer defines unindexOffer(prefix, expiry key, id, JSON), which
// removes an offer's expiry entry and its entries in the sets of its
// conversation and RM (named from the offer's JSON, which is only read),
// and dropOffer(prefix, expiry key, offer key, id), which also deletes the
// offer and returns 1, or 0 when there is no such offer.
const luaDropOffer = `
local function unindexOffer(prefix, expkey, id, j)
  local o = cjson.decode(j)
  redis.call('ZREM', expkey, id)
  redis.call('ZREM', prefix .. 'convoffers:' .. o.conversation_id, id)
  redis.call('ZREM', prefix .. 'rmoffers:' .. o.rm_id, id)
end
local function dropOffer(prefix, expkey, okey, id)
  local j = redis.call('GET', okey)
  if not j then
    return 0
  end
  redis.call('DEL', okey)
  unindexOffer(prefix, expkey, id, j)
  return 1
end
`

// createOfferLua: KEYS[1] offer, KEYS[2] expiry sorted set (score: expiry
// in Unix µs), KEYS[3] the conversation's offers (score: expiry), KEYS[4]
// the RM's offers (score: creation in Unix µs). ARGV: offer id, JSON,
// created at (Unix µs), expires at (Unix µs). Returns {1} when stored, {0}
// when the offer id is taken, {-1, live offer id, its expiry} when an
// offer of the conversation is still live at the creation time.
const createOfferLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0}
end
local live = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[3], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if live[1] then
  return {-1, live[1], live[2]}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
return {1}
`

// deleteOfferLua: KEYS[1] offer, KEYS[2] expiry sorted set. ARGV: offer
// id, key prefix. Returns the number of offers removed (0 or 1).
const deleteOfferLua = luaDropOffer + `
return dropOffer(ARGV[2], KEYS[2], KEYS[1], ARGV[1])
`

// liveOffersLua: KEYS[1] a conversation's or an RM's offer set, KEYS[2]
// the expiry sorted set. ARGV: now (Unix µs), offer key prefix. Returns
// the JSON of the set's offers whose expiry is after now, in the set's
// order. Read only.
const liveOffersLua = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local exp = redis.call('ZSCORE', KEYS[2], id)
  if exp and tonumber(exp) > tonumber(ARGV[1]) then
    local j = redis.call('GET', ARGV[2] .. id)
    if j then
      out[#out + 1] = j
    end
  end
end
return out
`

// createProspectLua: KEYS[1] customer, KEYS[2] its first address, KEYS[3..]
// further addresses. ARGV: customer id, JSON, customer key prefix. Returns
// {1} when stored, {0, JSON} of the customer already linked to the first
// address, {-1} when the customer id is taken.
const createProspectLua = `
local owner = redis.call('GET', KEYS[2])
if owner then
  return {0, redis.call('GET', ARGV[3] .. owner)}
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {-1}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
for i = 3, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'NX')
end
return {1}
`

// redisScripts are the loaded scripts of one Redis store.
type redisScripts struct {
	createConversation *redis.Script
	updateConversation *redis.Script
	appendMessage      *redis.Script
	advanceMessage     *redis.Script
	createOffer        *redis.Script
	deleteOffer        *redis.Script
	liveOffers         *redis.Script
	createProspect     *redis.Script
	commit             *redis.Script
	commitBatch        *redis.Script
}

func newRedisScripts() redisScripts {
	return redisScripts{
		createConversation: redis.NewScript(createConversationLua),
		updateConversation: redis.NewScript(updateConversationLua),
		appendMessage:      redis.NewScript(appendMessageLua),
		advanceMessage:     redis.NewScript(advanceMessageLua),
		createOffer:        redis.NewScript(createOfferLua),
		deleteOffer:        redis.NewScript(deleteOfferLua),
		liveOffers:         redis.NewScript(liveOffersLua),
		createProspect:     redis.NewScript(createProspectLua),
		commit:             redis.NewScript(commitLua),
		commitBatch:        redis.NewScript(commitBatchLua),
	}
}
