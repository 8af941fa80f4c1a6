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
-- KEYS, ARGV and redis.call are globals: read once into locals, as every other name
-- the loop uses, since a global is a table lookup at each use.
local K, A, call, tonumber, unpack = KEYS, ARGV, redis.call, tonumber, unpack
local epoch = call('HGET', K[1], 'epoch')
if epoch ~= A[1] then
  return redis.error_reply('FENCED partition owned by epoch ' .. tostring(epoch))
end
local n = tonumber(A[2])
local i = 3
-- A batch whose offsets are already applied was committed before (the reply was
-- lost): skip it whole so a retry never applies anything twice.
if n > 0 then
  local fields, pairs_ = {}, {}
  for k = 0, n - 1 do
    local f = 'off:' .. A[i + 2 * k]
    fields[k + 1] = f
    pairs_[2 * k + 1] = f
    pairs_[2 * k + 2] = A[i + 2 * k + 1]
  end
  local cur = call('HMGET', K[1], unpack(fields))
  for k = 0, n - 1 do
    if cur[k + 1] and tonumber(cur[k + 1]) >= tonumber(A[i + 2 * k + 1]) then
      return 'APPLIED'
    end
  end
  call('HSET', K[1], unpack(pairs_))
end
i = i + 2 * n
-- Writes of one kind (states, outputs, timers set, timers dropped) go to Redis as one
-- command each: they touch disjoint keys, so they commute, except a timer set and
-- dropped in one batch, whose earlier command is sent first; any other op first sends
-- what is held, so the order of the rest is kept. A batch's commands are what it costs
-- Redis, far more than their arguments. Each buffer holds its first n entries (what is
-- beyond them is stale, never sent).
local sets, outs, timers, untimers = {}, {}, {}, {}
local ns, no, nt, nu = 0, 0, 0, 0
local held = {} -- timer member -> 1: held to be set, 2: to be dropped
local outbox, zset = K[2], K[4]
local function flush()
  if ns > 0 then call('MSET', unpack(sets, 1, ns)); ns = 0 end
  if no > 0 then call('HSET', outbox, unpack(outs, 1, no)); no = 0 end
  if nt > 0 then call('ZADD', zset, unpack(timers, 1, nt)); nt = 0 end
  if nu > 0 then call('ZREM', zset, unpack(untimers, 1, nu)); nu = 0 end
  held = {}
end
-- unpack() is bounded by Lua's C stack: a buffer is sent at 4000 arguments.
local nargs = #A
while i <= nargs do
  local op = A[i]
  if op == 'S' then
    sets[ns + 1] = K[tonumber(A[i + 1])]
    sets[ns + 2] = A[i + 2]
    ns = ns + 2
    if ns >= 4000 then flush() end
    i = i + 3
  elseif op == 'O' then
    outs[no + 1] = A[i + 1]
    outs[no + 2] = A[i + 2]
    no = no + 2
    if no >= 4000 then flush() end
    i = i + 3
  elseif op == 'T' then
    local wo, due = A[i + 1], A[i + 2]
    if due == '0' then
      if held[wo] == 1 then flush() end
      held[wo] = 2
      nu = nu + 1
      untimers[nu] = wo
      if nu >= 4000 then flush() end
    else
      if held[wo] == 2 then flush() end
      held[wo] = 1
      timers[nt + 1] = due
      timers[nt + 2] = wo
      nt = nt + 2
      if nt >= 4000 then flush() end
    end
    i = i + 3
  else
    flush()
    if op == 'D' then
      call('DEL', K[tonumber(A[i + 1])])
      i = i + 2
    elseif op == 'P' then
      call('RPUSH', K[tonumber(A[i + 1])], A[i + 2])
      call('ZADD', K[3], 'NX', A[i + 3], A[i + 4])
      i = i + 5
    elseif op == 'U' then
      call('DEL', K[tonumber(A[i + 1])])
      call('ZREM', K[3], A[i + 2])
      i = i + 3
    elseif op == 'Z' then
      local z = K[tonumber(A[i + 1])]
      if A[i + 3] == '0' then
        call('ZREM', z, A[i + 2])
      else
        call('ZADD', z, A[i + 3], A[i + 2])
      end
      i = i + 4
    else
      return redis.error_reply('BADOP ' .. tostring(op))
    end
  end
end
flush()
return 'OK'
