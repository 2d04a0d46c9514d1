"""Shared rate limits: token buckets that every worker of a deployment draws from together.

A bucket is kept as one number, its *theoretical arrival time* (GCRA, the generic cell rate
algorithm, which is a token bucket written as a schedule): a bucket of `count` per `per`
seconds gives one slot every `per / count` seconds, plus a burst of `burst` slots.

A caller *reserves* a slot rather than polling for one: the first bucket of a request (the
shared queue, e.g. a Telegram bot's 30 a second) hands out its next free slot, in the order
callers ask, and the caller sleeps until that moment. The other buckets of the request
(e.g. one chat's 1 a second) must be free at that moment; when one is not, nothing is
reserved and the caller is told how long until it is. So slots are never wasted waiting
for a busy chat, callers are served first come first served (no thundering herd of
sleepers racing for one slot), and a caller who wakes a little late does not lower the rate.
A reservation further away than the caller's `max_wait` is refused, so a worker holding a
lease hands the work back instead of sleeping past it.

`InProcessLimiter` serves one process (the embedded default); `RedisLimiter` serves every
process that shares a Redis, with a Lua script so that the reservation is atomic and runs on
Redis's own clock (the workers' clocks may disagree). Losing Redis's keys only forgets the
schedule: the next requests start a new one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True)
class Rate:
    """At most `count` events per `per` seconds, of which `burst` may come at once."""

    count: int
    per: float = 1.0
    burst: int = 1

    @property
    def interval(self) -> float:
        return self.per / self.count

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


Bucket = tuple[str, Rate]  # (key, rate)


@dataclass(frozen=True)
class Reservation:
    granted: bool
    wait: float  # granted: sleep this long, then act; refused: try again after this long


class RateLimitExceeded(Exception):
    """The next slot is further away than the caller allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.2f} s")
        self.wait = wait


class RateLimiter(Protocol):
    async def reserve(self, buckets: Sequence[Bucket], max_wait: float) -> Reservation:
        """Reserve the first bucket's next slot if the other buckets are free then and it
        is at most `max_wait` away; otherwise reserve nothing."""
        ...

    async def hold(self, key: str, rate: Rate, seconds: float) -> None:
        """Give the bucket no slot for `seconds` (the server said "retry after")."""
        ...


async def take(
    limiter: RateLimiter,
    buckets: Sequence[Bucket],
    *,
    max_wait: float = 20.0,
    late_limit: float = 0.05,
) -> float:
    """Wait for a slot of every bucket; answer the seconds waited. Raises RateLimitExceeded
    (having reserved nothing) when that would take longer than `max_wait`.

    A caller that wakes more than `late_limit` seconds after its slot (the event loop or
    the machine stalled) lets the slot go and reserves a new one: acting late would bunch
    up with the callers whose slots come next, and the server counts arrivals."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        asked = loop.time()
        waited = asked - started
        reservation = await limiter.reserve(buckets, max(0.0, max_wait - waited))
        if reservation.granted:
            if reservation.wait > 0:
                await asyncio.sleep(reservation.wait)
            if loop.time() - (asked + reservation.wait) > late_limit:
                continue
            return loop.time() - started
        if waited + reservation.wait > max_wait:
            raise RateLimitExceeded(waited + reservation.wait)
        await asyncio.sleep(reservation.wait)


def _decide(
    tats: Sequence[float], rates: Sequence[Rate], now: float, max_wait: float
) -> tuple[Reservation, list[float] | None]:
    """The reservation and, when granted, the buckets' new arrival times."""
    slot = max(now, tats[0] - rates[0].tolerance)
    blocked = max((t - r.tolerance for t, r in zip(tats[1:], rates[1:], strict=True)),
                  default=now)
    if blocked > slot:
        return Reservation(False, blocked - now), None
    if slot - now > max_wait:
        return Reservation(False, slot - now), None
    new = [max(t, slot) + r.interval for t, r in zip(tats, rates, strict=True)]
    return Reservation(True, slot - now), new


class InProcessLimiter:
    """Buckets in this process's memory (one event loop, so no lock is needed)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tat: dict[str, float] = {}

    async def reserve(self, buckets: Sequence[Bucket], max_wait: float) -> Reservation:
        now = self.clock()
        tats = [self._tat.get(key, now) for key, _ in buckets]
        reservation, new = _decide(tats, [rate for _, rate in buckets], now, max_wait)
        if new is not None:
            for (key, _), tat in zip(buckets, new, strict=True):
                self._tat[key] = tat
            self._forget_idle(now)
        return reservation

    async def hold(self, key: str, rate: Rate, seconds: float) -> None:
        now = self.clock()
        self._tat[key] = max(self._tat.get(key, now), now + seconds + rate.tolerance)

    def _forget_idle(self, now: float) -> None:
        # Per-chat buckets are many and short-lived; drop those long past.
        if len(self._tat) > 10_000:
            self._tat = {k: v for k, v in self._tat.items() if v > now}


# KEYS: the buckets, the shared queue first. ARGV[1]: max_wait; then the interval and the
# tolerance of each bucket, in KEYS order. Answers {granted (0/1), wait in microseconds}
# (integers: Redis truncates Lua numbers it returns).
_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local tats, intervals, tolerances = {}, {}, {}
for i, key in ipairs(KEYS) do
  intervals[i] = tonumber(ARGV[2 * i])
  tolerances[i] = tonumber(ARGV[2 * i + 1])
  tats[i] = tonumber(redis.call('GET', key) or now)
end
local slot = math.max(now, tats[1] - tolerances[1])
local blocked = now
for i = 2, #KEYS do
  blocked = math.max(blocked, tats[i] - tolerances[i])
end
if blocked > slot then
  return {0, math.ceil((blocked - now) * 1000000)}
end
if slot - now > max_wait then
  return {0, math.ceil((slot - now) * 1000000)}
end
for i, key in ipairs(KEYS) do
  local tat = math.max(tats[i], slot) + intervals[i]
  redis.call('SET', key, string.format('%.6f', tat),
             'PX', math.ceil((tat - now + tolerances[i]) * 1000) + 1000)
end
return {1, math.ceil((slot - now) * 1000000)}
"""

# KEYS[1]: the bucket; ARGV: seconds to hold, tolerance.
_HOLD_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < until_ then
  redis.call('SET', KEYS[1], string.format('%.6f', until_),
             'PX', math.ceil((until_ - now) * 1000) + 1000)
end
return 0
"""


class RedisLimiter:
    """Buckets in Redis, shared by every process that uses the same `prefix`. The keys of
    one request are used together in one script: on a Redis Cluster give them a common
    hash tag."""

    def __init__(self, redis: Redis, prefix: str = "hub:rate:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._reserve = redis.register_script(_RESERVE_SCRIPT)
        self._hold = redis.register_script(_HOLD_SCRIPT)

    async def reserve(self, buckets: Sequence[Bucket], max_wait: float) -> Reservation:
        keys = [self.prefix + key for key, _ in buckets]
        args: list[float] = [max_wait]
        for _, rate in buckets:
            args += [rate.interval, rate.tolerance]
        granted, micros = await self._reserve(keys=keys, args=args)
        return Reservation(bool(int(granted)), int(micros) / 1_000_000)

    async def hold(self, key: str, rate: Rate, seconds: float) -> None:
        await self._hold(keys=[self.prefix + key], args=[seconds, rate.tolerance])
