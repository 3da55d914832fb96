"""Rate limits: per credential and per organization, for GraphQL requests and export requests.

Budgets (M360_RATE_LIMIT_*; 0 disables one):

- every authenticated /graphql request spends one unit of its credential's per-minute budget
  (an API key, or a signed-in user) and one of its organization's;
- every `requestExport` spends one unit of the credential's and of the organization's hourly
  export budget (checked in the resolver once the input is valid, so a refused export is a
  request that would have queued a job).

A refusal is HTTP 429 with `Retry-After` (whole seconds) and a GraphQL error whose
`extensions.code` is RATE_LIMITED (and `extensions.retryAfter` the same seconds); nothing is
spent from any budget when one of them refuses.

The algorithm is GCRA, a token bucket kept as one number per key (the "theoretical arrival
time"): a budget of N per window W refills one unit every W/N seconds and holds at most N, so
a client may burst N requests and then goes on at N per W. `MemoryStore` keeps the buckets in
the process (each API process has its own budgets); `RedisStore` (M360_REDIS_URL) keeps them
in Redis with one atomic script call per check, so every API process shares them. If Redis
cannot be reached, the process falls back to its own buckets (and says so in the log) rather
than refusing or failing requests.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.responses import JSONResponse

from member360.auth.keys import Principal
from member360.config import Settings

log = logging.getLogger("member360.ratelimit")

RATE_LIMITED = "RATE_LIMITED"
Clock = Callable[[], float]


@dataclass(frozen=True)
class Budget:
    """At most `limit` units per `window` seconds under `key`."""

    key: str
    limit: int
    window: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the refused request would be allowed

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for the Retry-After header: rounded up, at least 1."""
        return max(1, math.ceil(self.retry_after - 1e-9))


class Store(Protocol):
    async def spend(self, budgets: Sequence[Budget], now: float) -> Decision: ...

    async def aclose(self) -> None: ...


def _gcra(tat: float | None, budget: Budget, now: float) -> tuple[float, float]:
    """(new arrival time if allowed, seconds to wait; 0 when allowed) for one bucket."""
    interval = budget.window / budget.limit
    new_tat = max(tat if tat is not None else now, now) + interval
    allow_at = new_tat - budget.window
    return new_tat, max(0.0, allow_at - now)


class MemoryStore:
    """The buckets of this process (a dict of arrival times; expired ones are pruned)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._tat: dict[str, float] = {}
        self.max_keys = max_keys

    async def spend(self, budgets: Sequence[Budget], now: float) -> Decision:
        # No await between reading and writing: asyncio makes this check-and-spend atomic.
        updates: list[tuple[str, float]] = []
        wait = 0.0
        for budget in budgets:
            new_tat, delay = _gcra(self._tat.get(budget.key), budget, now)
            wait = max(wait, delay)
            updates.append((budget.key, new_tat))
        if wait > 0:
            return Decision(False, wait)
        if len(self._tat) > self.max_keys:
            # A bucket whose arrival time has passed is full again: forgetting it changes nothing.
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        self._tat.update(updates)
        return Decision(True)

    async def aclose(self) -> None:
        return None


# KEYS: one per budget; ARGV: now, then (limit, window) per key. Checks every bucket and spends
# from all of them only if none refuses; returns {allowed, retry_after in ms}.
_GCRA_SCRIPT = """
local now = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + window / limit
  local delay = new_tat - window - now
  if delay > wait then wait = delay end
  tats[i] = new_tat
end
if wait > 0 then
  return {0, math.ceil(wait * 1000)}
end
for i, key in ipairs(KEYS) do
  local ttl = math.ceil((tats[i] - now) * 1000) + 1000
  redis.call('SET', key, tostring(tats[i]), 'PX', ttl)
end
return {1, 0}
"""


class RedisStore:
    """The buckets in Redis, shared by every process that uses the same URL and prefix.

    The check is one EVALSHA round trip. Arrival times come from this process's clock, so API
    hosts need synchronised clocks (NTP); a skew of a second shifts a bucket by a second.
    """

    def __init__(self, url: str, *, prefix: str = "m360:rl:", client: Any = None) -> None:
        import redis.asyncio as redis

        self.client = client or redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        self.prefix = prefix
        self._script = self.client.register_script(_GCRA_SCRIPT)

    async def spend(self, budgets: Sequence[Budget], now: float) -> Decision:
        args: list[Any] = [repr(now)]
        for budget in budgets:
            args += [budget.limit, repr(float(budget.window))]
        allowed, wait_ms = await self._script(
            keys=[self.prefix + b.key for b in budgets], args=args
        )
        return Decision(bool(allowed), int(wait_ms) / 1000)

    async def aclose(self) -> None:
        await self.client.aclose()


class RateLimiter:
    """Spends budgets from a store; falls back to process memory while Redis is unreachable."""

    def __init__(self, store: Store, clock: Clock = time.time) -> None:
        self.store = store
        self.clock = clock
        self._fallback = MemoryStore()
        self._warned_at = -math.inf

    async def spend(self, budgets: Sequence[Budget]) -> Decision:
        budgets = [b for b in budgets if b.limit > 0]
        if not budgets:
            return Decision(True)
        now = self.clock()
        try:
            return await self.store.spend(budgets, now)
        except Exception as exc:  # Redis down: keep serving, with this process's own budgets
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning(
                    "rate limit store unavailable (%s); using per-process limits",
                    type(exc).__name__,
                )
            return await self._fallback.spend(budgets, now)

    async def aclose(self) -> None:
        await self.store.aclose()


def credential_of(principal: Principal) -> str:
    """The bucket name of a credential: its key id or user id (never a secret or an email)."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"key:{principal.key_id}"


class RateLimits:
    """The configured budgets; `admit` guards /graphql, `check_export` guards requestExport."""

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = time.time) -> RateLimits:
        store: Store = RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()
        return cls(settings, RateLimiter(store, clock))

    def request_budgets(self, principal: Principal) -> list[Budget]:
        s = self.settings
        return [
            Budget(f"req:{credential_of(principal)}", s.rate_limit_requests_per_minute, 60.0),
            Budget(f"req:org:{principal.org.id}", s.rate_limit_org_requests_per_minute, 60.0),
        ]

    def export_budgets(self, principal: Principal) -> list[Budget]:
        s = self.settings
        return [
            Budget(f"exp:{credential_of(principal)}", s.rate_limit_exports_per_hour, 3600.0),
            Budget(f"exp:org:{principal.org.id}", s.rate_limit_org_exports_per_hour, 3600.0),
        ]

    async def admit(self, principal: Principal) -> JSONResponse | None:
        """None when the request may go on; else the 429 answer."""
        decision = await self.limiter.spend(self.request_budgets(principal))
        if decision.allowed:
            return None
        log.info("request refused: rate limit", extra={"retry_after": decision.retry_after})
        seconds = decision.retry_after_seconds
        return JSONResponse(
            {"errors": [rate_limited_error(seconds, "requests").formatted]},
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )

    async def check_export(self, principal: Principal) -> None:
        """Raises a RATE_LIMITED GraphQLError (the app answers it with 429) when over budget."""
        decision = await self.limiter.spend(self.export_budgets(principal))
        if not decision.allowed:
            log.info("export refused: rate limit", extra={"retry_after": decision.retry_after})
            raise rate_limited_error(decision.retry_after_seconds, "export requests")

    async def aclose(self) -> None:
        await self.limiter.aclose()


def rate_limited_error(seconds: int, what: str) -> GraphQLError:
    return GraphQLError(
        f"too many {what}: try again in {seconds} s",
        extensions={"code": RATE_LIMITED, "retryAfter": seconds},
    )


def retry_after_of(response_data: Any) -> int | None:
    """The Retry-After seconds when a GraphQL answer holds a RATE_LIMITED error, else None."""
    if not isinstance(response_data, dict):
        return None
    for error in response_data.get("errors") or ():
        extensions = error.get("extensions") or {}
        if extensions.get("code") == RATE_LIMITED:
            return int(extensions.get("retryAfter") or 1)
    return None
