"""The queue's Lua scripts, and the runner that sends them as EVALSHA with an EVAL fallback.

Each state transition is one script, so each costs one round trip and no other client can see
it half done (the Upstash REST API has no WATCH or MULTI across calls). Every key a script uses
shares the queue's hash tag, so all of them live in one cluster slot. Keys that can be named in
advance are passed as KEYS; a script derives the others from the key prefix in ARGV (job
records, and the lists of the job types it reads from the type set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upstash_redis import Redis


@dataclass(frozen=True)
class LuaScript:
    """A script's text and the SHA-1 Redis caches it under."""

    name: str
    text: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.text.encode(), usedforsecurity=False).hexdigest()
        object.__setattr__(self, "sha", digest)


class ScriptRunner:
    """Runs scripts by hash; sends the text only when Redis answers NOSCRIPT.

    EVAL caches the script, so the fallback costs one extra round trip per script the first
    time (and again only after Redis restarts or flushes its script cache).
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def run(self, script: LuaScript, keys: Sequence[str], args: Sequence[str]) -> Any:
        """The script's reply to `keys` and `args`."""
        from upstash_redis.errors import UpstashError

        try:
            return self._redis.evalsha(script.sha, list(keys), list(args))
        except UpstashError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return self._redis.eval(script.text, list(keys), list(args))


# Shared by the scripts that dead-letter a job (claim: a lost job out of attempts; finish).
_BURY = """
local function bury(dead, counts, key, id, job_type, error, now)
  redis.call('HSET', key, 'state', 'dead', 'error', error, 'updated', now)
  redis.call('HDEL', key, 'deadline')
  redis.call('ZADD', dead, now, id)
  redis.call('HINCRBY', counts, 'dead:' .. job_type, 1)
end
"""

ENQUEUE = LuaScript(
    "enqueue",
    """
-- KEYS[1]: the set of job types; then per job: ready list, delayed zset, job hash, dedupe key.
-- ARGV[1]: now (ms); then per job: id, type, payload, dedupe window (ms, 0: no dedupe),
-- max attempts, run at (ms).
-- A dedupe key holds "id:expiry"; the expiry is checked against the caller's clock (like every
-- other time in the queue), and PX lets Redis drop the key once it no longer matters.
-- Answers {id, created (1/0)} per job; a live dedupe key answers the id it names.
local now = ARGV[1]
local answers = {}
for i = 0, (#ARGV - 1) / 6 - 1 do
  local a, k = 2 + i * 6, 2 + i * 4
  local id, job_type, window = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 3])
  local existing = false
  if window > 0 then
    local held = redis.call('GET', KEYS[k + 3])
    if held then
      local sep = string.find(held, ':', 1, true)
      if tonumber(string.sub(held, sep + 1)) > tonumber(now) then
        existing = string.sub(held, 1, sep - 1)
      end
    end
  end
  if existing then
    answers[#answers + 1] = {existing, 0}
  else
    if window > 0 then
      redis.call('SET', KEYS[k + 3], id .. ':' .. (tonumber(now) + window), 'PX', window)
    end
    local run_at = ARGV[a + 5]
    local state = 'ready'
    if tonumber(run_at) > tonumber(now) then
      state = 'delayed'
    end
    redis.call('HSET', KEYS[k + 2], 'type', job_type, 'payload', ARGV[a + 2], 'state', state,
      'attempts', 0, 'max_attempts', ARGV[a + 4], 'created', now, 'updated', now,
      'run_at', run_at)
    if state == 'ready' then
      redis.call('RPUSH', KEYS[k], id)
    else
      redis.call('ZADD', KEYS[k + 1], run_at, id)
    end
    redis.call('SADD', KEYS[1], job_type)
    answers[#answers + 1] = {id, 1}
  end
end
return answers
""",
)

CLAIM = LuaScript(
    "claim",
    _BURY
    + """
-- KEYS[1]: the set of job types, KEYS[2]: dead-letter zset, KEYS[3]: counts hash; then per
-- type: ready list, delayed zset, in-flight zset (none at all: every type in KEYS[1]).
-- ARGV: now (ms), visibility deadline (ms), limit, most jobs promoted or reclaimed per type,
-- key prefix, then the type names.
-- For each type, first delayed jobs that are due become ready and in-flight jobs past their
-- deadline are reclaimed (dead-lettered when out of attempts); then up to `limit` ready jobs
-- move to in-flight, oldest first, each with its attempt and its claim counted.
-- `claims` only ever grows (retry_dead resets `attempts`, never `claims`), so its value names
-- this claim alone: finish checks it to tell the current holder from a worker that lost the job.
-- Answers {id, type, payload, attempt, max attempts, claim} per claimed job.
local now, deadline, limit, bound, prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local queues = {}
if #KEYS > 3 then
  for i = 6, #ARGV do
    local k = 4 + (i - 6) * 3
    queues[#queues + 1] = {ARGV[i], KEYS[k], KEYS[k + 1], KEYS[k + 2]}
  end
else
  local names = redis.call('SMEMBERS', KEYS[1])
  table.sort(names)
  for _, name in ipairs(names) do
    queues[#queues + 1] = {name, prefix .. ':ready:' .. name, prefix .. ':delayed:' .. name,
      prefix .. ':inflight:' .. name}
  end
end
for _, q in ipairs(queues) do
  local job_type, ready, delayed, inflight = q[1], q[2], q[3], q[4]
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, bound)) do
    local key = prefix .. ':job:' .. id
    redis.call('ZREM', delayed, id)
    if redis.call('HGET', key, 'state') == 'delayed' then
      redis.call('HSET', key, 'state', 'ready', 'updated', now)
      redis.call('RPUSH', ready, id)
    end
  end
  local lost = redis.call('ZRANGEBYSCORE', inflight, '-inf', now, 'LIMIT', 0, bound)
  -- Pushed to the head from the last to the first, so the longest lost goes first.
  for i = #lost, 1, -1 do
    local id = lost[i]
    local key = prefix .. ':job:' .. id
    redis.call('ZREM', inflight, id)
    local job = redis.call('HMGET', key, 'attempts', 'max_attempts', 'state')
    if job[3] == 'in_flight' then
      if tonumber(job[1]) >= tonumber(job[2]) then
        bury(KEYS[2], KEYS[3], key, id, job_type, 'worker lost the job', now)
      else
        redis.call('HSET', key, 'state', 'ready', 'error', 'worker lost the job', 'updated', now)
        redis.call('HDEL', key, 'deadline')
        redis.call('LPUSH', ready, id)
      end
    end
  end
end
local claimed = {}
for _, q in ipairs(queues) do
  if #claimed >= limit then
    break
  end
  local ids = redis.call('LPOP', q[2], limit - #claimed)
  if ids then
    for _, id in ipairs(ids) do
      local key = prefix .. ':job:' .. id
      local job = redis.call('HMGET', key, 'payload', 'max_attempts')
      if job[1] then
        local attempt = redis.call('HINCRBY', key, 'attempts', 1)
        local claim = redis.call('HINCRBY', key, 'claims', 1)
        redis.call('HSET', key, 'state', 'in_flight', 'updated', now, 'deadline', deadline)
        redis.call('ZADD', q[4], deadline, id)
        claimed[#claimed + 1] = {id, q[1], job[1], attempt, tonumber(job[2]), claim}
      end
    end
  end
end
return claimed
""",
)

FINISH = LuaScript(
    "finish",
    _BURY
    + """
-- KEYS[1]: dead-letter zset, KEYS[2]: counts hash; then per outcome: job hash, in-flight zset,
-- delayed zset of its type.
-- ARGV: now (ms), retention of completed jobs (s); then per outcome: id, type, claim, kind
-- (completed/retry/dead/release), result JSON or error, retry at (ms).
-- A released job was claimed but never run: its attempt is given back and it is due again now.
-- An outcome counts only while its job (of that type) is in flight under that same claim;
-- otherwise the job was reclaimed since (and perhaps dead-lettered, retried by hand and claimed
-- again): the outcome is stale and ignored. The claim, not the attempt, decides, because
-- retry_dead starts the attempts over.
-- Answers the state each job ended in: completed, delayed, released, dead or stale.
local now, retention = ARGV[1], ARGV[2]
local states = {}
for i = 0, (#ARGV - 2) / 6 - 1 do
  local a, k = 3 + i * 6, 3 + i * 3
  local id, job_type, claim, kind, text = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
    ARGV[a + 4]
  local key = KEYS[k]
  local job = redis.call('HMGET', key, 'state', 'attempts', 'max_attempts', 'type', 'claims')
  local state = 'stale'
  if job[1] == 'in_flight' and job[5] == claim and job[4] == job_type then
    redis.call('ZREM', KEYS[k + 1], id)
    if kind == 'completed' then
      redis.call('HSET', key, 'state', 'completed', 'result', text, 'updated', now)
      redis.call('HDEL', key, 'deadline')
      redis.call('EXPIRE', key, retention)
      redis.call('HINCRBY', KEYS[2], 'completed:' .. job_type, 1)
      state = 'completed'
    elseif kind == 'release' then
      redis.call('HINCRBY', key, 'attempts', -1)
      redis.call('HSET', key, 'state', 'delayed', 'updated', now, 'run_at', now)
      redis.call('HDEL', key, 'deadline')
      redis.call('ZADD', KEYS[k + 2], now, id)
      state = 'released'
    elseif kind == 'retry' and tonumber(job[2]) < tonumber(job[3]) then
      redis.call('HSET', key, 'state', 'delayed', 'error', text, 'updated', now,
        'run_at', ARGV[a + 5])
      redis.call('HDEL', key, 'deadline')
      redis.call('ZADD', KEYS[k + 2], ARGV[a + 5], id)
      state = 'delayed'
    else
      bury(KEYS[1], KEYS[2], key, id, job_type, text, now)
      state = 'dead'
    end
  end
  states[#states + 1] = state
end
return states
""",
)

RETRY_DEAD = LuaScript(
    "retry_dead",
    """
-- KEYS[1]: dead-letter zset, KEYS[2]: counts hash, KEYS[3]: job hash.
-- ARGV: now (ms), key prefix, job id.
-- Answers 1 when the dead job is ready again with its attempts reset, 0 when the job is not
-- dead, -1 when there is no such job. Its `claims` count is kept, so no outcome of a claim made
-- before the retry can pass for one made after it.
local job = redis.call('HMGET', KEYS[3], 'state', 'type')
if not job[1] then
  return -1
end
if job[1] ~= 'dead' then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], 'dead:' .. job[2], -1)
redis.call('HSET', KEYS[3], 'state', 'ready', 'attempts', 0, 'updated', ARGV[1],
  'run_at', ARGV[1])
redis.call('RPUSH', ARGV[2] .. ':ready:' .. job[2], ARGV[3])
return 1
""",
)

STATS = LuaScript(
    "stats",
    """
-- KEYS[1]: the set of job types, KEYS[2]: counts hash. ARGV[1]: key prefix.
-- Answers {type, ready, delayed, in flight, completed, dead} per type.
local names = redis.call('SMEMBERS', KEYS[1])
table.sort(names)
local rows = {}
for _, name in ipairs(names) do
  rows[#rows + 1] = {name,
    redis.call('LLEN', ARGV[1] .. ':ready:' .. name),
    redis.call('ZCARD', ARGV[1] .. ':delayed:' .. name),
    redis.call('ZCARD', ARGV[1] .. ':inflight:' .. name),
    tonumber(redis.call('HGET', KEYS[2], 'completed:' .. name) or '0'),
    tonumber(redis.call('HGET', KEYS[2], 'dead:' .. name) or '0')}
end
return rows
""",
)

DEAD_LETTERS = LuaScript(
    "dead_letters",
    """
-- KEYS[1]: dead-letter zset. ARGV: key prefix, limit.
-- Answers {id, job hash as a flat field/value list} per job, the latest dead first.
local rows = {}
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do
  rows[#rows + 1] = {id, redis.call('HGETALL', ARGV[1] .. ':job:' .. id)}
end
return rows
""",
)
