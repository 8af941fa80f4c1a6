-- Takes ownership of a partition: a new epoch fences every earlier owner.
-- KEYS[1] meta hash; ARGV[1] owner description (for operators).
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
return epoch
