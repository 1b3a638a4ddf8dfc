//! Rate-limit events in Redis (`AUTHSTACK_REDIS_URL`): one sorted set per key, scored by the
//! event's time, changed only by Lua scripts so that a check and its count are one step for
//! every replica that shares the server.
//!
//! A region's Redis may serve many instances: every key carries the instance's id as a hash tag
//! (`authstack:{ins_…}:rl:…`, so that one script's keys share a cluster slot) and the limit key
//! only as a SHA-256 digest, so the server never holds an address or an IP in clear.

use redis::Script;
use redis::aio::ConnectionManager;

use super::{Slot, Verdict};
use crate::crypto::sha256_hex;

/// KEYS: the slots' sets. ARGV: now (ms), the attempt, then window (ms) and max per key.
/// Answers 0 when counted, else how many ms the fullest set waits.
const RESERVE: &str = r"
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + 2 * i])
  local max = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= max then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local left = tonumber(oldest[2]) + window - now
    if left > wait then wait = left end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[1 + 2 * i]))
end
return 0
";

#[derive(Clone)]
pub struct RedisLimits {
    conn: ConnectionManager,
    prefix: String,
    reserve: Script,
}

impl std::fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("RedisLimits")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLimits {
    /// Connects (and fails at start when the server cannot be reached).
    pub async fn connect(url: &str, instance_id: &str) -> redis::RedisResult<RedisLimits> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(RedisLimits {
            conn,
            prefix: format!("authstack:{{{instance_id}}}:rl:"),
            reserve: Script::new(RESERVE),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, sha256_hex(key))
    }

    pub(super) async fn reserve(
        &self,
        slots: &[Slot<'_>],
        at_ms: i64,
        attempt: &str,
    ) -> redis::RedisResult<Verdict> {
        let mut call = self.reserve.prepare_invoke();
        call.arg(at_ms).arg(attempt);
        for slot in slots {
            call.key(self.key(slot.key))
                .arg(slot.window_ms())
                .arg(slot.limit.max);
        }
        let wait_ms: i64 = call.invoke_async(&mut self.conn.clone()).await?;
        Ok(if wait_ms > 0 {
            Verdict::Limited { wait_ms }
        } else {
            Verdict::Counted
        })
    }

    pub async fn clear(&self, key: &str) -> redis::RedisResult<()> {
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut self.conn.clone())
            .await
    }

    pub async fn release(&self, keys: &[String], attempt: &str) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.zrem(self.key(key), attempt).ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await
    }
}
