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
in Redis with one atomic script call per check, so every API process shares them.

A sick Redis must not slow requests down: calls time out after a tenth of a second and are not
retried, and a `CircuitBreaker` stops asking Redis after a failure. Meanwhile the process
spends from its own buckets (each API process then allows the whole budget by itself) rather
than refusing or failing requests; after a back-off (1 s, doubling up to 30 s) one request
tries Redis again while the others go on without waiting for it, and its success brings the
shared budgets back. The log says so once per change, not once per request.
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
from member360.graphql.errors import RATE_LIMITED

log = logging.getLogger("member360.ratelimit")

Clock = Callable[[], float]

# Redis answers one script call in well under a millisecond on a local network; a request that
# waits longer is waiting on a sick server.
REDIS_CONNECT_TIMEOUT = 0.25
REDIS_TIMEOUT = 0.1
# After a failure Redis is tried again after BACKOFF seconds, doubling per failed try up to CAP.
BREAKER_BACKOFF = 1.0
BREAKER_BACKOFF_CAP = 30.0


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
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.client = client or redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
            # redis-py retries 3 times with up to a second's back-off by default: each request
            # would wait for all of it. The circuit breaker decides when to try again.
            retry=Retry(NoBackoff(), 0),
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


CLOSED, OPEN = "closed", "open"
CALL, PROBE = "call", "probe"


class CircuitBreaker:
    """Whether to ask the shared store now.

    Closed: every request asks. A failure opens it: nobody asks until `retry_at`; then one
    request asks (the probe, half-open) while the others carry on without it. A probe that
    fails doubles the back-off (up to `cap`); one that succeeds closes the breaker. Times are
    the caller's (the limiter's clock), so tests move them.

    Written here rather than taken from purgatory, pybreaker, circuitbreaker or aiobreaker:
    none takes an injected clock, pybreaker's async support needs Tornado, and in their
    half-open state every concurrent request goes through, so each would wait on a hung Redis.
    """

    def __init__(self, backoff: float = BREAKER_BACKOFF, cap: float = BREAKER_BACKOFF_CAP) -> None:
        self.base = backoff
        self.cap = cap
        self.state = CLOSED
        self.backoff = backoff
        self.retry_at = -math.inf
        self.probing = False

    def ticket(self, now: float) -> str | None:
        """CALL or PROBE when this request may ask the store; None when it must not."""
        if self.state == CLOSED:
            return CALL
        if self.probing or now < self.retry_at:
            return None
        self.probing = True
        return PROBE

    def failed(self, ticket: str, now: float) -> bool:
        """Records a failed call; True when it opened the breaker (a change worth a log line)."""
        if ticket == PROBE:
            self.backoff = min(self.backoff * 2, self.cap)
            self.retry_at = now + self.backoff
            self.probing = False
            return False
        if self.state == OPEN:
            return False  # a call started before another one's failure opened it
        self.state, self.backoff, self.retry_at = OPEN, self.base, now + self.base
        return True

    def succeeded(self, ticket: str) -> bool:
        """Records a successful call; True when it closed the breaker."""
        if ticket != PROBE:
            return False
        self.state, self.backoff, self.probing = CLOSED, self.base, False
        return True

    def abandoned(self, ticket: str) -> None:
        """A call that ended neither way (the request was cancelled): let another probe."""
        if ticket == PROBE:
            self.probing = False


class RateLimiter:
    """Spends budgets from a store; falls back to process memory while the store is sick."""

    def __init__(self, store: Store, clock: Clock = time.time) -> None:
        self.store = store
        self.clock = clock
        self.breaker = CircuitBreaker()
        self._fallback = MemoryStore()

    async def spend(self, budgets: Sequence[Budget]) -> Decision:
        budgets = [b for b in budgets if b.limit > 0]
        if not budgets:
            return Decision(True)
        now = self.clock()
        ticket = self.breaker.ticket(now)
        if ticket is not None:
            settled = False
            try:
                decision = await self.store.spend(budgets, now)
                settled = True
            except Exception as exc:  # Redis sick: keep serving, with this process's budgets
                settled = True
                if self.breaker.failed(ticket, self.clock()):
                    log.warning(
                        "rate limit store unavailable (%s); using per-process limits and "
                        "trying it again in %.0f s, then less often",
                        type(exc).__name__,
                        self.breaker.backoff,
                    )
            else:
                if self.breaker.succeeded(ticket):
                    log.info("rate limit store reachable again; limits are shared again")
                return decision
            finally:
                if not settled:
                    self.breaker.abandoned(ticket)
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
