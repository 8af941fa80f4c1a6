-- Reads a batch's work orders in one call (see cfd_store_load in include/confirmd/store.h).
-- KEYS[1] park index zset, then per order its state key and its park key;
-- ARGV the orders, in the same order.
-- Returns per order its state (nil when none) and its parked frames: a park list is
-- read only for an order the index names. apply.lua adds an order to the index in the
-- write that parks its first event and removes it in the write that drops its list,
-- so an order outside the index has no park list (the usual case: nothing to read).
local out = {}
local any_parked = redis.call('EXISTS', KEYS[1]) == 1
for i = 1, #ARGV do
  out[2 * i - 1] = redis.call('GET', KEYS[2 * i])
  if any_parked and redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    out[2 * i] = redis.call('LRANGE', KEYS[2 * i + 1], 0, -1)
  else
    out[2 * i] = {}
  end
end
return out
