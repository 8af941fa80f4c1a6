-- Applies one batch of a partition atomically (see include/confirmd/store.h).
-- KEYS[1] meta hash, KEYS[2] outbox hash, KEYS[3] park index zset, KEYS[4] timers zset,
-- KEYS[5..] the work-order and park keys the ops name by index.
-- ARGV[1] epoch, ARGV[2] number of offsets, then (topic, offset) pairs, then ops:
--   S <key#> <value>               set a key (a work order's state, an object's ...)
--   D <key#>                       delete a key
--   O <id> <frame>                 add an output to the outbox
--   P <key#> <frame> <expire> <wo> park an event for an order not yet open
--   U <key#> <wo>                  drop an order's parked events (it opened)
--   T <wo> <due>                   the order's next SLA instant (0: none)
--   Z <key#> <member> <due>        a member's next instant in another zset (0: none)
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return redis.error_reply('FENCED partition owned by epoch ' ..
    tostring(redis.call('HGET', KEYS[1], 'epoch')))
end
local n = tonumber(ARGV[2])
local i = 3
-- A batch whose offsets are already applied was committed before (the reply was
-- lost): skip it whole so a retry never applies anything twice.
local fields, pairs_ = {}, {}
for k = 0, n - 1 do
  fields[k + 1] = 'off:' .. ARGV[i + 2 * k]
  pairs_[2 * k + 1] = fields[k + 1]
  pairs_[2 * k + 2] = ARGV[i + 2 * k + 1]
end
if n > 0 then
  local cur = redis.call('HMGET', KEYS[1], unpack(fields))
  for k = 0, n - 1 do
    if cur[k + 1] and tonumber(cur[k + 1]) >= tonumber(ARGV[i + 2 * k + 1]) then
      return 'APPLIED'
    end
  end
  redis.call('HSET', KEYS[1], unpack(pairs_))
end
i = i + 2 * n
-- Writes of one kind (states, outputs, timers set, timers dropped) go to Redis as one
-- command each: they touch disjoint keys, so they commute, except a timer set and
-- dropped in one batch, whose earlier command is sent first; any other op first sends
-- what is held, so the order of the rest is kept. A batch's commands are what it costs
-- Redis, far more than their arguments.
local sets, outs, timers, untimers = {}, {}, {}, {}
local held = {} -- timer member -> the buffer holding it
local function clear(t) -- in place: callers hold references to the buffers
  for k = #t, 1, -1 do t[k] = nil end
end
local function flush()
  if #sets > 0 then redis.call('MSET', unpack(sets)); clear(sets) end
  if #outs > 0 then redis.call('HSET', KEYS[2], unpack(outs)); clear(outs) end
  if #timers > 0 then redis.call('ZADD', KEYS[4], unpack(timers)); clear(timers) end
  if #untimers > 0 then redis.call('ZREM', KEYS[4], unpack(untimers)); clear(untimers) end
  held = {}
end
local function hold(t, a, b)
  t[#t + 1] = a
  if b then t[#t + 1] = b end
  if #t >= 4000 then flush() end -- unpack() is bounded by Lua's C stack
end
local function hold_timer(t, wo, due)
  if held[wo] and held[wo] ~= t then flush() end
  held[wo] = t
  if due then hold(t, due, wo) else hold(t, wo) end
end
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'S' then
    hold(sets, KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2])
    i = i + 3
  elseif op == 'O' then
    hold(outs, ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  elseif op == 'T' then
    if ARGV[i + 2] == '0' then
      hold_timer(untimers, ARGV[i + 1], nil)
    else
      hold_timer(timers, ARGV[i + 1], ARGV[i + 2])
    end
    i = i + 3
  else
    flush()
    if op == 'D' then
      redis.call('DEL', KEYS[tonumber(ARGV[i + 1])])
      i = i + 2
    elseif op == 'P' then
      redis.call('RPUSH', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2])
      redis.call('ZADD', KEYS[3], 'NX', ARGV[i + 3], ARGV[i + 4])
      i = i + 5
    elseif op == 'U' then
      redis.call('DEL', KEYS[tonumber(ARGV[i + 1])])
      redis.call('ZREM', KEYS[3], ARGV[i + 2])
      i = i + 3
    elseif op == 'Z' then
      local z = KEYS[tonumber(ARGV[i + 1])]
      if ARGV[i + 3] == '0' then
        redis.call('ZREM', z, ARGV[i + 2])
      else
        redis.call('ZADD', z, ARGV[i + 3], ARGV[i + 2])
      end
      i = i + 4
    else
      return redis.error_reply('BADOP ' .. tostring(op))
    end
  end
end
flush()
return 'OK'
