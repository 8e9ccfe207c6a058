package state

// commitLua applies one Txn (see Redis.Commit and commitPayload). KEYS[1]
// offers:expiry, KEYS[2] rmstates, KEYS[3] presstate, KEYS[4] rms,
// KEYS[5] wakes, KEYS[6] cursors, then every other key the Go side can
// name; the payload refers to keys by their index in KEYS. ARGV: the
// payload (JSON, with the write token in field n), the key prefix, then
// the records (JSON text, or a packed decision record), which the payload
// names by their index in ARGV (field a), and the rosters sent (field ra).
//
// Before anything else it checks the rosters that decision records name
// (see redis_decisions.go): a roster sent is stored, one not sent must
// exist and has its expiry renewed; if one is missing it returns
// {"rosters", hash…} and applies nothing, and the Go side runs it again
// with the rosters attached.
//
// It reads and checks first (the conversation's version, then each guard
// in order) and writes only when every check passed, so a refused Txn
// writes nothing. Records arrive as JSON text made by the Go side and are
// stored as they are: the script decodes only the payload, a stored
// offer's JSON (to find its conversation and RM) and the conversation's
// index field x, and never encodes JSON. Times are Unix µs as decimal
// strings; numbers passed to redis.call are strings.
//
// Keys it finds while running (the index sets a conversation leaves, named
// by x; the offer sets of an offer it deletes or replaces; the offer a
// failed no_live_offer guard names) are built from the prefix, so they
// carry its hash tag and share the declared keys' Cluster slot.
//
// A conversation record written before its hash had field x leaves no
// index sets (its stale entries stay; ListConversations filters them
// out). Redis does not roll a script back: a Lua error after the checks
// (only a key of the wrong type, which no code of this store writes,
// could cause one) would keep the writes made before it.
//
// Cost, measured on the 2-vCPU VM of BENCHMARKS.md: about 60 µs of server
// time for a claim (18 redis.calls), of which decoding the payload with
// cjson is about 10 µs (a table per object); a flat ARGV encoding would
// save most of that, at the price of a format that is harder to read.
//
// Returns {1} when applied (or when the conversation already carries this
// run's write token and version, i.e. a re-sent command), {0} when the
// conversation does not exist, {2, stored version} on a version mismatch,
// {3, guard index (from 1), failure code, details…} when a guard fails,
// {4, message} for a payload the Go side should never send, and
// {"rosters", hash…} (nothing applied) when rosters are missing.
const commitLua = luaDropOffer + commitApplyLua + `
local t = cjson.decode(ARGV[1])
local missing = rosters({t})
if #missing > 0 then
  return {'rosters', unpack(missing)}
end
return apply(t)
`

// commitBatchLua applies several Txns in one EVALSHA (see
// Redis.CommitBatch): ARGV[1] is a JSON array of commitLua payloads over
// one shared KEYS and ARGV, applied in order, each checked and written on
// its own exactly as commitLua would; it returns one commitLua reply per
// payload. A refused Txn does not stop the ones after it. The rosters of
// every payload are checked first, so a missing one refuses the whole
// batch ({"rosters", hash…}) before any Txn is applied.
const commitBatchLua = luaDropOffer + commitApplyLua + `
local ts = cjson.decode(ARGV[1])
local missing = rosters(ts)
if #missing > 0 then
  return {'rosters', unpack(missing)}
end
local out = {}
for i, t in ipairs(ts) do
  out[i] = apply(t)
end
return out
`

// commitApplyLua defines apply(t), the body of commitLua for one payload t.
const commitApplyLua = `
local prefix = ARGV[2]

local function load(key, except)
  local h = redis.call('HGETALL', key)
  local n = 0
  for i = 1, #h, 2 do
    local f = h[i]
    if string.sub(f, 1, 2) == 'h:' and string.sub(f, 3) ~= except then
      n = n + tonumber(h[i + 1])
    end
  end
  return n
end

-- rosters(ts) runs before any payload of ts is applied: it stores each
-- roster a decision record names and the Go side sent (d.ra), and renews
-- the expiry of each one not sent, returning the hashes of those missing
-- (the caller then applies nothing).
local function rosters(ts)
  local missing, seen = {}, {}
  for _, t in ipairs(ts) do
    local d = t.d
    if d and d.r and not seen[d.r] then
      seen[d.r] = true
      if d.ra then
        redis.call('SET', KEYS[d.r], ARGV[d.ra], 'PX', d.ttl)
      elseif redis.call('PEXPIRE', KEYS[d.r], d.ttl) == 0 then
        missing[#missing + 1] = d.h
      end
    end
  end
  return missing
end

-- keepRosters(d), after decision record d is written: KEYS[d.rk] lists
-- the rosters the conversation's records name and expires with them; every
-- roster listed besides d.h (renewed by rosters above) is renewed too, so
-- no roster expires before a record naming it.
local function keepRosters(d)
  local listed
  if d.h then
    listed = redis.call('SET', KEYS[d.rk], d.h, 'PX', d.ttl, 'GET')
    if not listed or listed == d.h then
      return
    end
  elseif redis.call('PEXPIRE', KEYS[d.rk], d.ttl) == 1 then
    listed = redis.call('GET', KEYS[d.rk])
  else
    return
  end
  local all, seen = {}, {}
  if d.h then
    all[1], seen[d.h] = d.h, true
  end
  for h in string.gmatch(listed, '%x+') do
    if not seen[h] then
      seen[h] = true
      all[#all + 1] = h
      redis.call('PEXPIRE', prefix .. 'roster:' .. h, d.ttl)
    end
  end
  if d.h then
    redis.call('SET', KEYS[d.rk], table.concat(all, ' '), 'PX', d.ttl)
  end
end

local function apply(t)
local now, token = tonumber(t.now), t.n
local c = t.c
local oldx = false
if c then
  local f = redis.call('HMGET', KEYS[c.k], 'v', 'n', 'x')
  if not f[1] then
    return {0}
  end
  if f[1] ~= c.v then
    if f[1] == c.nv and f[2] == token then
      return {1}
    end
    return {2, f[1]}
  end
  oldx = f[3]
end

for i, g in ipairs(t.g or {}) do
  if g.t == 'rm_available' then
    local p = redis.call('HGET', KEYS[3], g.rm)
    if not p then
      return {3, i, 'no_presence'}
    end
    local exp, st = string.match(p, '^(-?%d+) (.*)$')
    if st ~= 'available' then
      return {3, i, 'state', st}
    end
    if exp ~= '0' and tonumber(exp) <= now then
      return {3, i, 'lease_expired', exp}
    end
  elseif g.t == 'presence' then
    local p = redis.call('HGET', KEYS[3], g.rm) or '0 offline'
    if p ~= g.p then
      local _, st = string.match(p, '^(-?%d+) (.*)$')
      return {3, i, 'presence_changed', st or 'offline'}
    end
  elseif g.t == 'capacity' then
    local n = load(KEYS[g.k], g.c)
    if n + g.cost > g.cap then
      return {3, i, 'load', tostring(n)}
    end
  elseif g.t == 'offer_live' then
    local exp = redis.call('ZSCORE', KEYS[1], g.o)
    if not exp then
      return {3, i, 'no_offer'}
    end
    if g.rk and not redis.call('ZSCORE', KEYS[g.rk], g.o) then
      local o = cjson.decode(redis.call('GET', KEYS[g.k]))
      return {3, i, 'owner', o.rm_id}
    end
    if tonumber(exp) <= now then
      return {3, i, 'offer_expired', exp}
    end
  elseif g.t == 'no_live_offer' then
    local live = redis.call('ZRANGEBYSCORE', KEYS[g.k], '(' .. t.now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if live[1] then
      local o = cjson.decode(redis.call('GET', prefix .. 'offer:' .. live[1]))
      return {3, i, 'live_offer', live[1], o.rm_id, live[2]}
    end
  else
    return {4, 'unknown guard kind ' .. tostring(g.t)}
  end
end

if c then
  redis.call('HSET', KEYS[c.k], 'j', ARGV[c.a], 'v', c.nv, 'n', token, 'x', c.x)
  local old = {}
  if oldx then
    for _, s in ipairs(cjson.decode(oldx)) do
      old[s] = true
    end
  end
  local keep = {}
  for i, s in ipairs(c.s) do
    keep[s] = true
    if not old[s] then
      redis.call('ZADD', KEYS[c.ix[i]], 0, c.id)
    end
  end
  for s in pairs(old) do
    if not keep[s] then
      redis.call('ZREM', prefix .. s, c.id)
    end
  end
end
local counted = {} -- RMs added to rmstates by this run
local function count(rm)
  if not counted[rm] then
    redis.call('SADD', KEYS[2], rm)
    counted[rm] = true
  end
end
for _, h in ipairs(t.h or {}) do
  redis.call('HSET', KEYS[h.k], 'h:' .. h.c, h.cost)
  count(h.rm)
end
for _, h in ipairs(t.r or {}) do
  if redis.call('HDEL', KEYS[h.k], 'h:' .. h.c) == 1 and load(KEYS[h.k]) == 0 then
    redis.call('HSET', KEYS[h.k], 'i', t.now)
  end
end
local function putOffer(o)
  local old = redis.call('SET', KEYS[o.k], ARGV[o.a], 'GET')
  if old then
    unindexOffer(prefix, KEYS[1], o.id, old)
  end
  redis.call('ZADD', KEYS[1], o.exp, o.id)
  redis.call('ZADD', KEYS[o.ck], o.exp, o.id)
  redis.call('ZADD', KEYS[o.rk], o.cr, o.id)
end
if t.o then
  putOffer(t.o)
end
for _, o in ipairs(t.os or {}) do
  putOffer(o)
end
for _, d in ipairs(t.del or {}) do
  dropOffer(prefix, KEYS[1], KEYS[d.k], d.id)
end
for _, q in ipairs(t.eq or {}) do
  redis.call('ZADD', KEYS[q.k], q.s, q.id)
end
for _, q in ipairs(t.dq or {}) do
  redis.call('ZREM', KEYS[q.k], q.id)
end
for _, u in ipairs(t.rm or {}) do
  if u.l then
    redis.call('HSET', KEYS[u.k], 'l', u.l)
  end
  if u.i then
    redis.call('HSET', KEYS[u.k], 'i', u.i)
  end
  if u.m == 1 then
    redis.call('HSET', KEYS[u.k], 'm', '0')
  elseif u.m == 2 then
    redis.call('HINCRBY', KEYS[u.k], 'm', '1')
  end
  count(u.rm)
end
for _, p in ipairs(t.p or {}) do
  redis.call('SET', KEYS[p.k], ARGV[p.a])
  redis.call('SADD', KEYS[4], p.rm)
  redis.call('HSET', KEYS[3], p.rm, p.st)
end
for _, e in ipairs(t.e or {}) do
  redis.call('RPUSH', KEYS[e.k], ARGV[e.a])
end
local d = t.d
if d then
  if redis.call('LPUSH', KEYS[d.k], ARGV[d.a]) > d.max then
    redis.call('LTRIM', KEYS[d.k], '0', tostring(d.max - 1))
  end
  redis.call('PEXPIRE', KEYS[d.k], d.ttl)
  keepRosters(d)
end
for _, w in ipairs(t.w or {}) do
  if w.at then
    redis.call('ZADD', KEYS[5], w.at, w.id)
  else
    redis.call('ZREM', KEYS[5], w.id)
  end
end
for _, u in ipairs(t.cu or {}) do
  if u.rm ~= '' then
    redis.call('HSET', KEYS[6], u.key, u.rm)
  else
    redis.call('HDEL', KEYS[6], u.key)
  end
end
return {1}
end
`
