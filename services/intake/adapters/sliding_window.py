"""The Redis script behind RedisRateLimits: per caller, a hash of counts per slot (1/60 of
the window). For each caller of a batch, in order and atomically, it sums the current slot
and the 60 before it (a span a little longer than the window, so that no window ever holds
more than the limit), adds the cost when it fits, and otherwise answers how long until
enough slots expire. The server's clock, so that every intake instance agrees on the slots.

KEYS: the callers' hashes. ARGV: the slot length in ms, then a limit and a cost per key.
Returns one wait in ms per key (0: taken)."""

SLOTS = 60

SCRIPT = """
local slot_ms, slots = tonumber(ARGV[1]), 60
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = math.floor(now_ms / slot_ms)

-- A caller's counts of the span, read once per run however many of its checks it holds.
local function load(key)
  local fields = redis.call('HGETALL', key)
  local state, stale = {used = 0, added = 0, live = {}}, {}
  for i = 1, #fields, 2 do
    local slot, count = tonumber(fields[i]), tonumber(fields[i + 1])
    if slot < current - slots then
      stale[#stale + 1] = fields[i]
    else
      state.used = state.used + count
      state.live[#state.live + 1] = {slot, count}
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  table.sort(state.live, function(a, b) return a[1] < b[1] end)
  return state
end

local function wait_ms(state, limit, cost)
  local excess = state.used + cost - limit
  for _, entry in ipairs(state.live) do
    excess = excess - entry[2]
    if excess <= 0 then return (entry[1] + slots + 1) * slot_ms - now_ms end
  end
  return (current + slots + 1) * slot_ms - now_ms  -- only this run's own takes free it
end

local states, waits = {}, {}
for k = 1, #KEYS do
  local key, limit, cost = KEYS[k], tonumber(ARGV[2 * k]), tonumber(ARGV[2 * k + 1])
  local state = states[key]
  if state == nil then
    state = load(key)
    states[key] = state
  end
  if state.used + cost <= limit then
    state.used, state.added = state.used + cost, state.added + cost
    waits[k] = 0
  else
    waits[k] = wait_ms(state, limit, cost)
  end
end
for key, state in pairs(states) do
  if state.added > 0 then
    redis.call('HINCRBY', key, current, state.added)
    redis.call('PEXPIRE', key, slot_ms * (slots + 2))
  end
end
return waits
"""
