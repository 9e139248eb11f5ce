/* The hook workers' Lua scripts: each runs atomically in Redis. Keys, per
 * consumer group GROUP:
 *   rtmphooks:workers:GROUP           sorted set: live workers, scored by
 *                                     when they expire (Redis' clock, ms)
 *   rtmphooks:workers:GROUP:shard:N   the worker that reads event stream N,
 *                                     expires after worker.claim_after
 * One worker reads a shard at a time: a consumer group would spread one
 * stream key's events over its consumers and lose their order. */
#pragma once

#define RH_WORKER_KEY_PREFIX "rtmphooks:workers:"

/* A worker's heartbeat: it stays in the live set and renews its shards,
 * then takes free shards up to its fair share (shards divided by live
 * workers, rounded up). A shard key of a wrong type, or a name that never
 * expires, is garbage and freed. With ARGV[5] = "0" the worker leaves
 * instead: out of the live set, its shards freed at once.
 * KEYS: live set. ARGV: worker, ttl ms, shards, shard key prefix, "1" or
 * "0". Returns {live workers, shards now this worker's}. */
#define RH_SCRIPT_WORKER_BEAT \
  "local t = redis.call('TIME')\n" \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
  "local ttl = tonumber(ARGV[2])\n" \
  "local staying = ARGV[5] == '1'\n" \
  "local kind = redis.call('TYPE', KEYS[1]).ok\n" \
  "if kind ~= 'zset' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end\n" \
  "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n" \
  "if staying then redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n" \
  "else redis.call('ZREM', KEYS[1], ARGV[1]) end\n" \
  "local alive = redis.call('ZRANGE', KEYS[1], 0, 255)\n" \
  "local shards = tonumber(ARGV[3])\n" \
  "local fair = math.ceil(shards / math.max(#alive, 1))\n" \
  "local mine, free = {}, {}\n" \
  "for i = 0, shards - 1 do\n" \
  "  local key = ARGV[4] .. i\n" \
  "  local owner = redis.pcall('GET', key)\n" \
  "  if owner == ARGV[1] then\n" \
  "    if staying then redis.call('PEXPIRE', key, ttl); mine[#mine + 1] = i\n" \
  "    else redis.call('DEL', key) end\n" \
  "  elseif type(owner) ~= 'string' or redis.call('PTTL', key) == -1 then\n" \
  "    if owner then redis.call('DEL', key) end\n" \
  "    free[#free + 1] = i\n" \
  "  end\n" \
  "end\n" \
  "if staying then\n" \
  "  for _, i in ipairs(free) do\n" \
  "    if #mine >= fair then break end\n" \
  "    redis.call('SET', ARGV[4] .. i, ARGV[1], 'PX', ttl)\n" \
  "    mine[#mine + 1] = i\n" \
  "  end\n" \
  "end\n" \
  "return {alive, mine}\n"

/* Gives a shard back (more than the fair share, and idle) so that a
 * newer worker takes it. KEYS: the shard key. ARGV: worker. */
#define RH_SCRIPT_WORKER_RELEASE \
  "if redis.pcall('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end\n" \
  "return 0\n"
