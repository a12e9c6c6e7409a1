import { createHash } from 'node:crypto';

/** A Lua script sent by its SHA-1, and in full once Redis says it does not know it. */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function script(name: string, lua: string): LuaScript {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/*
 * Each script is one atomic step in Redis: what replicas would race on (count, then add) is
 * decided inside the server. Time comes from the server's clock (TIME), so replicas whose
 * clocks drift still share one window.
 */

/**
 * Sliding-window log over several keys. KEYS: the windows. ARGV: cost, a nonce unique to this
 * call, then limit and window length (ms) per key. A sorted set per key holds one member per
 * counted unit, scored by the time it was counted. Returns allowed (0/1), then per key:
 * fits (0/1), remaining, retry-after ms.
 */
export const consumeScript = script(
  'consume',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local counts = {}
local allowed = 1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  counts[i] = redis.call('ZCARD', KEYS[i])
  if counts[i] + cost > limit then allowed = 0 end
end
local out = { allowed }
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  local count = counts[i]
  if allowed == 1 then
    for first = 1, cost, 500 do
      local members = {}
      for j = first, math.min(cost, first + 499) do
        members[#members + 1] = now
        members[#members + 1] = ARGV[2] .. ':' .. j
      end
      redis.call('ZADD', KEYS[i], unpack(members))
    end
    redis.call('PEXPIRE', KEYS[i], window)
    out[#out + 1] = 1
    out[#out + 1] = limit - count - cost
    out[#out + 1] = 0
  elseif count + cost <= limit then
    out[#out + 1] = 1
    out[#out + 1] = limit - count
    out[#out + 1] = 0
  else
    -- the unit that must leave before cost more fit: the (count + cost - limit)-th oldest
    local index = count + cost - limit - 1
    local leaving = redis.call('ZRANGE', KEYS[i], index, index, 'WITHSCORES')
    out[#out + 1] = 0
    out[#out + 1] = math.max(0, limit - count)
    out[#out + 1] = tonumber(leaving[2]) + window - now
  end
end
return out
`,
);

/** INCRBY, giving the counter a TTL only when it has none. ARGV: by, ttl ms or ''. */
export const incrementScript = script(
  'increment',
  `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
`,
);

/** Sets the counter to ARGV[1] when it holds less or nothing; TTL as for increment. */
export const raiseScript = script(
  'raise',
  `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local value = tonumber(ARGV[1])
if value > current then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  current = value
end
if ARGV[2] ~= '' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return current
`,
);

/**
 * Appends, trims to the bound and refreshes the TTL, returning what was trimmed.
 * ARGV: max length, ttl ms, then the entries. Returns { length, dropped }.
 */
export const listAppendScript = script(
  'listAppend',
  `
local length = redis.call('LLEN', KEYS[1])
for first = 3, #ARGV, 500 do
  length = redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(#ARGV, first + 499)))
end
local max = tonumber(ARGV[1])
local dropped = {}
if length > max then
  dropped = redis.call('LRANGE', KEYS[1], 0, length - max - 1)
  redis.call('LTRIM', KEYS[1], length - max, -1)
  length = max
end
if length > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return { length, dropped }
`,
);

/** Replaces the list whole. ARGV: ttl ms, then the entries (none: the list is removed). */
export const listReplaceScript = script(
  'listReplace',
  `
redis.call('DEL', KEYS[1])
for first = 2, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(#ARGV, first + 499)))
end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`,
);
