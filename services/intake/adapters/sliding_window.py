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

local function take(key, limit, cost)
  local fields = redis.call('HGETALL', key)
  local used, live, stale = 0, {}, {}
  for i = 1, #fields, 2 do
    local slot, count = tonumber(fields[i]), tonumber(fields[i + 1])
    if slot < current - slots then
      stale[#stale + 1] = fields[i]
    else
      used = used + count
      live[#live + 1] = {slot, count}
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  if used + cost <= limit then
    redis.call('HINCRBY', key, current, cost)
    redis.call('PEXPIRE', key, slot_ms * (slots + 2))
    return 0
  end
  table.sort(live, function(a, b) return a[1] < b[1] end)
  local excess = used + cost - limit
  for _, entry in ipairs(live) do
    excess = excess - entry[2]
    if excess <= 0 then return (entry[1] + slots + 1) * slot_ms - now_ms end
  end
  return slots * slot_ms
end

local waits = {}
for k = 1, #KEYS do
  waits[k] = take(KEYS[k], tonumber(ARGV[2 * k]), tonumber(ARGV[2 * k + 1]))
end
return waits
"""
