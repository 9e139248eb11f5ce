/* The directory's Lua scripts: each runs atomically in Redis, so that no
 * two nodes can both see a key free and both take it. Keys:
 *   rtmphooks:owner:APP/NAME   "EPOCH NODE ADVERTISE", expires after the lease
 *   rtmphooks:epoch:APP/NAME   the key's fencing counter, only ever raised
 *   rtmphooks:node:NODE        the node's advertise URL, expires after the lease
 *   rtmphooks:streams:NODE     set of the keys NODE claimed
 *   rtmphooks:nodes            set of the nodes seen
 *   rtmphooks:reap:NODE        which node reports NODE's streams lost
 *   rtmphooks:generation       made by the first node to reach this Redis:
 *                              a new value means Redis forgot the rest
 * A value of the wrong type or form in any of them (written by hand, by
 * another program) is replaced, never trusted. The scripts build some
 * key names themselves: one Redis server, not Redis Cluster. */
#pragma once

#define RH_KEY_PREFIX "rtmphooks:"

/* The generation of what Redis holds, made if absent. KEYS: generation.
 * ARGV: a new random value. */
#define RH_SCRIPT_GENERATION \
  "local g = redis.pcall('GET', KEYS[1])\n" \
  "if type(g) == 'string' and #g > 0 and #g <= 64 then return g end\n" \
  "redis.call('DEL', KEYS[1])\n" \
  "redis.call('SET', KEYS[1], ARGV[1])\n" \
  "return ARGV[1]\n"

/* Which node owns a key, bounded. KEYS: owner. */
#define RH_SCRIPT_LOCATE \
  "local v = redis.pcall('GET', KEYS[1])\n" \
  "if type(v) ~= 'string' then return false end\n" \
  "return string.sub(v, 1, 1023)\n"

/* Claim: the key is free (or holds garbage, or a stale record of this
 * very node): raise its epoch and take it for a lease. Returns {1, epoch,
 * how} or {0, the owner's record}. A weak claim (a publish accepted
 * while Redis was unreachable) also yields to a node that still lists
 * the key as its own (its lease ran out during the outage; it will put
 * it back). KEYS: owner, epoch, node's streams, nodes. ARGV: node,
 * advertise, lease ms, stream key, "weak" or "". */
#define RH_SCRIPT_CLAIM \
  "local how = 'new'\n" \
  "local cur = redis.pcall('GET', KEYS[1])\n" \
  "if type(cur) == 'string' then\n" \
  "  local e, n = string.match(cur, '^([1-9]%d*) ([%w%._%-]+) (%S+)$')\n" \
  "  if e and n ~= ARGV[1] then return {0, string.sub(cur, 1, 1023)} end\n" \
  "  if not e then how = 'garbage' else how = 'stale' end\n" \
  "elseif cur then how = 'garbage' end\n" \
  "if ARGV[5] == 'weak' then\n" \
  "  local ids = redis.pcall('SMEMBERS', KEYS[4])\n" \
  "  if type(ids) == 'table' and not ids.err then\n" \
  "    for _, id in ipairs(ids) do\n" \
  "      if id ~= ARGV[1] and redis.pcall('SISMEMBER', 'rtmphooks:streams:' .. id, ARGV[4]) == 1 then\n" \
  "        return {0, '0 ' .. id .. ' -'}\n" \
  "      end\n" \
  "    end\n" \
  "  end\n" \
  "end\n" \
  "if how ~= 'new' then redis.call('DEL', KEYS[1]) end\n" \
  "local epoch = redis.pcall('INCR', KEYS[2])\n" \
  "if type(epoch) ~= 'number' then\n" \
  "  redis.call('DEL', KEYS[2]); epoch = redis.call('INCR', KEYS[2]); how = 'garbage'\n" \
  "end\n" \
  "redis.call('SET', KEYS[1], epoch .. ' ' .. ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])\n" \
  "if type(redis.pcall('SADD', KEYS[3], ARGV[4])) ~= 'number' then\n" \
  "  redis.call('DEL', KEYS[3]); redis.call('SADD', KEYS[3], ARGV[4])\n" \
  "end\n" \
  "return {1, epoch, how}\n"

/* Release on unpublish, only if the record is still ours. KEYS: owner,
 * node's streams. ARGV: "EPOCH NODE " (the record's start), stream key. */
#define RH_SCRIPT_RELEASE \
  "local cur = redis.pcall('GET', KEYS[1])\n" \
  "if type(cur) == 'string' and string.sub(cur, 1, #ARGV[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n" \
  "redis.pcall('SREM', KEYS[2], ARGV[2])\n" \
  "return 1\n"

/* Each heartbeat: the node is alive, and each of its claims is
 *   ok          its record is still there: renewed;
 *   reasserted  put back: its record is gone or holds garbage and no
 *               newer epoch was given since (its lease ran out while
 *               Redis was unreachable); or Redis forgot everything since
 *               the claim was made (another generation) and the claim
 *               that came first keeps the key, whoever claimed it since;
 *   lost        another node's record is there, or a newer epoch was
 *               given, in the generation of the claim (this node was cut
 *               off or stopped while another took the key, or its
 *               streams were reported lost).
 * KEYS: node, nodes, node's streams, generation, then owner and epoch
 * per claim. ARGV: node, advertise, lease ms, then epoch, stream key and
 * generation per claim. */
#define RH_SCRIPT_HEARTBEAT \
  "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n" \
  "if type(redis.pcall('SADD', KEYS[2], ARGV[1])) ~= 'number' then\n" \
  "  redis.call('DEL', KEYS[2]); redis.call('SADD', KEYS[2], ARGV[1])\n" \
  "end\n" \
  "if type(redis.pcall('SCARD', KEYS[3])) ~= 'number' then redis.call('DEL', KEYS[3]) end\n" \
  "local generation = redis.pcall('GET', KEYS[4])\n" \
  "local out = {}\n" \
  "for i = 1, (#KEYS - 4) / 2 do\n" \
  "  local owner, counter = KEYS[3 + 2 * i], KEYS[4 + 2 * i]\n" \
  "  local epoch, stream = tonumber(ARGV[1 + 3 * i]), ARGV[2 + 3 * i]\n" \
  "  local forgot = ARGV[3 + 3 * i] ~= generation\n" \
  "  local mine = epoch .. ' ' .. ARGV[1] .. ' ' .. ARGV[2]\n" \
  "  local cur = redis.pcall('GET', owner)\n" \
  "  local c = redis.pcall('GET', counter)\n" \
  "  c = type(c) == 'string' and tonumber(c) or 0\n" \
  "  local other = type(cur) == 'string' and string.match(cur, '^[1-9]%d* [%w%._%-]+ %S+$')\n" \
  "  if cur == mine then\n" \
  "    redis.call('PEXPIRE', owner, ARGV[3]); out[i] = 'ok'\n" \
  "  elseif not forgot and ((other and c >= epoch) or (not other and c > epoch)) then\n" \
  "    out[i] = 'lost'\n" \
  "  else\n" \
  "    redis.call('DEL', owner)\n" \
  "    redis.call('SET', owner, mine, 'PX', ARGV[3])\n" \
  "    if c < epoch then redis.call('DEL', counter); redis.call('SET', counter, epoch) end\n" \
  "    redis.call('SADD', KEYS[3], stream)\n" \
  "    out[i] = 'reasserted'\n" \
  "  end\n" \
  "end\n" \
  "return out\n"

/* The fleet as the directory sees it: {node, advertise or false, {keys}}
 * per node, bounded. KEYS: nodes. */
#define RH_SCRIPT_SURVEY \
  "local ids = redis.pcall('SMEMBERS', KEYS[1])\n" \
  "if type(ids) ~= 'table' or ids.err then redis.call('DEL', KEYS[1]); return {} end\n" \
  "local out = {}\n" \
  "for i, id in ipairs(ids) do\n" \
  "  if i > 256 then break end\n" \
  "  if not string.match(id, '^[%w%._%-]+$') or #id > 64 then\n" \
  "    redis.call('SREM', KEYS[1], id)\n" \
  "  else\n" \
  "    local url = redis.pcall('GET', 'rtmphooks:node:' .. id)\n" \
  "    if type(url) ~= 'string' then url = false else url = string.sub(url, 1, 512) end\n" \
  "    local keys = redis.pcall('SRANDMEMBER', 'rtmphooks:streams:' .. id, 1000)\n" \
  "    if type(keys) ~= 'table' or keys.err then keys = {} end\n" \
  "    table.insert(out, {id, url, keys})\n" \
  "  end\n" \
  "end\n" \
  "return out\n"

/* A node whose liveness key expired while it still listed streams: the
 * first survivor to ask (SET NX of its reap key) gets those streams, once,
 * as {key, epoch} pairs (epoch 0 when another node holds the key now);
 * their records go, and their epochs are raised so that the node, if it
 * comes back, finds them lost. KEYS: node, node's streams, reap, nodes.
 * ARGV: dead node, this node, lease ms. */
#define RH_SCRIPT_REAP \
  "if redis.call('EXISTS', KEYS[1]) == 1 then return {} end\n" \
  "if not redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then return {} end\n" \
  "local keys = redis.pcall('SMEMBERS', KEYS[2])\n" \
  "if type(keys) ~= 'table' or keys.err then keys = {} end\n" \
  "local out = {}\n" \
  "for _, stream in ipairs(keys) do\n" \
  "  local owner = 'rtmphooks:owner:' .. stream\n" \
  "  local cur = redis.pcall('GET', owner)\n" \
  "  local e, n = nil, nil\n" \
  "  if type(cur) == 'string' then e, n = string.match(cur, '^([1-9]%d*) ([%w%._%-]+) ') end\n" \
  "  if n == ARGV[1] then redis.call('DEL', owner) else e = 0 end\n" \
  "  redis.pcall('INCR', 'rtmphooks:epoch:' .. stream)\n" \
  "  table.insert(out, {stream, tonumber(e)})\n" \
  "end\n" \
  "redis.call('DEL', KEYS[2])\n" \
  "redis.call('SREM', KEYS[4], ARGV[1])\n" \
  "return out\n"
