-- Applies the cookie changes of one response to the buckets of a RedisJar,
-- if no bucket changed since it was read. The RFC 6265bis rules ran in Rust
-- on what was read; this script only checks and writes, atomically.
--
-- KEYS[1]      the version counter ("{prefix}#version")
-- KEYS[2..n+1] the buckets read ("{prefix}:{site}"), n of them
-- ARGV[1..n]   the version of each bucket when read ("0": it did not exist)
-- then, for each bucket in KEYS order:
--   ttl (seconds; 0: no cookie is left, delete the key), sets, deletes,
--   `sets` pairs (field, value), then `deletes` fields.
--
-- Returns 0, writing nothing, when a bucket's version changed; 1 otherwise.
-- Each bucket written gets a new version, from a counter that never goes
-- back, so a bucket deleted and made again never repeats a version.
local n = #KEYS - 1
for i = 1, n do
  local v = redis.call('HGET', KEYS[i + 1], '#v')
  if (v or '0') ~= ARGV[i] then
    return 0
  end
end
local a = n + 1
local version = false
for i = 1, n do
  local key = KEYS[i + 1]
  local ttl = tonumber(ARGV[a])
  local sets = tonumber(ARGV[a + 1])
  local deletes = tonumber(ARGV[a + 2])
  a = a + 3
  if sets + deletes > 0 then
    for _ = 1, sets do
      redis.call('HSET', key, ARGV[a], ARGV[a + 1])
      a = a + 2
    end
    for _ = 1, deletes do
      redis.call('HDEL', key, ARGV[a])
      a = a + 1
    end
    if ttl == 0 then
      redis.call('DEL', key)
    else
      if not version then
        version = redis.call('INCR', KEYS[1])
      end
      redis.call('HSET', key, '#v', version)
      redis.call('EXPIRE', key, ttl)
    end
  end
end
return 1
