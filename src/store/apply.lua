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
for k = 0, n - 1 do
  local cur = redis.call('HGET', KEYS[1], 'off:' .. ARGV[i + 2 * k])
  if cur and tonumber(cur) >= tonumber(ARGV[i + 2 * k + 1]) then
    return 'APPLIED'
  end
end
for k = 0, n - 1 do
  redis.call('HSET', KEYS[1], 'off:' .. ARGV[i + 2 * k], ARGV[i + 2 * k + 1])
end
i = i + 2 * n
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'S' then
    redis.call('SET', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2])
    i = i + 3
  elseif op == 'D' then
    redis.call('DEL', KEYS[tonumber(ARGV[i + 1])])
    i = i + 2
  elseif op == 'O' then
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  elseif op == 'P' then
    redis.call('RPUSH', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2])
    redis.call('ZADD', KEYS[3], 'NX', ARGV[i + 3], ARGV[i + 4])
    i = i + 5
  elseif op == 'U' then
    redis.call('DEL', KEYS[tonumber(ARGV[i + 1])])
    redis.call('ZREM', KEYS[3], ARGV[i + 2])
    i = i + 3
  elseif op == 'T' then
    if ARGV[i + 2] == '0' then
      redis.call('ZREM', KEYS[4], ARGV[i + 1])
    else
      redis.call('ZADD', KEYS[4], ARGV[i + 2], ARGV[i + 1])
    end
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
return 'OK'
