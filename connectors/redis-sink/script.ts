/**
 * The one Lua script that applies a whole batch (docs/redis-sink.md#exactly-once). Redis runs a
 * script atomically, and with AOF on it is logged as one MULTI/EXEC, so the rows, the change
 * stream entries and the partition offsets of a batch become visible, and durable, together.
 *
 * The script reads a flat list of operations from ARGV. Checks come first and change nothing
 * (a failing check aborts the script before any write: Redis does not roll back a script that
 * fails half-way, so every write is made safe up front); then the writes, in order.
 *
 * Checks:
 *   F okeys bkeys field next barrier  the fence: stored next offset / barrier ('' = none) must match
 *   Y key type                        the key is absent or of this type (sets, streams, offsets hashes)
 *   X key                             the row hash exists (a partial update needs the stored row)
 *   J key value                       the stored JSON row is still the one the merge was based on
 *   W                                 end of checks
 * Writes:
 *   T index                           truncate: delete every key in the table's index set, then the set
 *   D key index                       delete a row
 *   H key index n f1 v1 …             replace a row hash (n = number of field/value pairs)
 *   P key index n f1 v1 … m d1 …      update some fields of a row hash, remove m fields (NULL)
 *   S key index value                 replace a JSON row
 *   E key seconds                     expire a row key
 *   A stream maxlen n f1 v1 …         append a change stream entry (XADD MAXLEN ~)
 *   O okeys bkeys field next barrier  store a partition's next offset and barrier ('' clears it)
 *   B okeys bkeys field barrier       set a barrier only (next offset "0" when none is stored)
 *   L ekeys field epoch               store a partition's highest source leader epoch (docs/failover.md)
 */
import { createHash } from 'node:crypto';

export const APPLY_SCRIPT = `
local a = ARGV
local i = 1
local n = #a
local function val(v) if v then return v end return '' end
while i <= n do
  local op = a[i]
  if op == 'W' then i = i + 1 break
  elseif op == 'F' then
    local sn = val(redis.call('HGET', a[i+1], a[i+3]))
    local sb = val(redis.call('HGET', a[i+2], a[i+3]))
    if sn ~= a[i+4] or sb ~= a[i+5] then
      return redis.error_reply('FERRY_FENCED ' .. a[i+3] .. ' ' .. sn)
    end
    i = i + 6
  elseif op == 'Y' then
    local t = redis.call('TYPE', a[i+1])['ok']
    if t ~= 'none' and t ~= a[i+2] then
      return redis.error_reply('FERRY_WRONGTYPE ' .. a[i+1] .. ' ' .. t .. ' ' .. a[i+2])
    end
    i = i + 3
  elseif op == 'X' then
    if redis.call('TYPE', a[i+1])['ok'] ~= 'hash' then
      return redis.error_reply('FERRY_MISSING ' .. a[i+1])
    end
    i = i + 2
  elseif op == 'J' then
    if redis.call('TYPE', a[i+1])['ok'] ~= 'string' or redis.call('GET', a[i+1]) ~= a[i+2] then
      return redis.error_reply('FERRY_STALE ' .. a[i+1])
    end
    i = i + 3
  else
    return redis.error_reply('FERRY_BADOP ' .. tostring(op) .. ' at ' .. i)
  end
end
while i <= n do
  local op = a[i]
  if op == 'T' then
    while true do
      local m = redis.call('SPOP', a[i+1], 1000)
      if #m == 0 then break end
      redis.call('DEL', unpack(m))
    end
    i = i + 2
  elseif op == 'D' then
    redis.call('DEL', a[i+1])
    redis.call('SREM', a[i+2], a[i+1])
    i = i + 3
  elseif op == 'H' then
    local c = tonumber(a[i+3])
    redis.call('DEL', a[i+1])
    redis.call('HSET', a[i+1], unpack(a, i+4, i+3+2*c))
    redis.call('SADD', a[i+2], a[i+1])
    i = i + 4 + 2*c
  elseif op == 'P' then
    local c = tonumber(a[i+3])
    if c > 0 then redis.call('HSET', a[i+1], unpack(a, i+4, i+3+2*c)) end
    local j = i + 4 + 2*c
    local d = tonumber(a[j])
    if d > 0 then redis.call('HDEL', a[i+1], unpack(a, j+1, j+d)) end
    redis.call('SADD', a[i+2], a[i+1])
    i = j + 1 + d
  elseif op == 'S' then
    redis.call('SET', a[i+1], a[i+3])
    redis.call('SADD', a[i+2], a[i+1])
    i = i + 4
  elseif op == 'E' then
    redis.call('EXPIRE', a[i+1], a[i+2])
    i = i + 3
  elseif op == 'A' then
    local c = tonumber(a[i+3])
    redis.call('XADD', a[i+1], 'MAXLEN', '~', a[i+2], '*', unpack(a, i+4, i+3+2*c))
    i = i + 4 + 2*c
  elseif op == 'O' then
    redis.call('HSET', a[i+1], a[i+3], a[i+4])
    if a[i+5] == '' then redis.call('HDEL', a[i+2], a[i+3]) else redis.call('HSET', a[i+2], a[i+3], a[i+5]) end
    i = i + 6
  elseif op == 'L' then
    redis.call('HSET', a[i+1], a[i+2], a[i+3])
    i = i + 4
  elseif op == 'B' then
    redis.call('HSET', a[i+2], a[i+3], a[i+4])
    redis.call('HSETNX', a[i+1], a[i+3], '0')
    i = i + 5
  else
    return redis.error_reply('FERRY_BADOP ' .. tostring(op) .. ' at ' .. i)
  end
end
return 'OK'
`;

export const APPLY_SCRIPT_SHA = createHash('sha1').update(APPLY_SCRIPT).digest('hex');

/** The field of a partition in the offsets and barriers hashes (Kafka topic names never hold `#`). */
export const partitionField = (topic: string, partition: number): string => `${topic}#${partition}`;

export function parsePartitionField(field: string): { topic: string; partition: number } | null {
  const at = field.lastIndexOf('#');
  if (at <= 0) return null;
  const partition = Number(field.slice(at + 1));
  return Number.isInteger(partition) ? { topic: field.slice(0, at), partition } : null;
}
