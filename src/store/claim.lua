-- Takes ownership of a partition: a new epoch fences every earlier owner.
-- KEYS[1] meta hash; ARGV[1] owner description (for operators).
-- The epoch is never below Redis' clock in ms: should Redis lose its latest writes
-- (appendfsync everysec, then a crash), a later claim still gets an epoch no earlier
-- owner ever held, instead of repeating the lost one.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
local epoch = math.max(cur + 1, now)
redis.call('HSET', KEYS[1], 'epoch', string.format('%d', epoch), 'owner', ARGV[1])
return epoch
