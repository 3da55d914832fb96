"""Rate limits: 429 with Retry-After per credential and per org, for requests and for exports.

Budgets run on an injected clock (no sleeping): the app's limiter gets a `FakeClock`, and a
test moves it past the window to see the budget come back (or past the circuit breaker's
back-off). The Redis tests use the local server (127.0.0.1:6379) with a key prefix of their
own; a sick Redis is a loopback server that accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from member360.app import create_app
from member360.auth.keys import ROLE_SCOPES, SCOPES, Principal, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.exports.models import ExportJob
from member360.orgs.service import OrgInfo, create_org
from member360.ratelimit import (
    BREAKER_BACKOFF,
    REDIS_CONNECT_TIMEOUT,
    REDIS_TIMEOUT,
    Budget,
    CircuitBreaker,
    MemoryStore,
    RateLimiter,
    RateLimits,
    RedisStore,
)
from tests.factories import ingest_ok, make_customer

REDIS_URL = "redis://127.0.0.1:6379/0"
ME = "{ me { kind } }"
EXPORT = """mutation($input: RequestExportInput!) { requestExport(input: $input) { id status } }"""
TAB = {"customerTab": {"customerId": "c1", "tab": "POINTS_ACTIVITY"}}


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limited(**limits: int) -> Settings:
    """Settings with only the given budgets on (the others 0: off)."""
    values: dict[str, Any] = {
        "rate_limit_requests_per_minute": 0,
        "rate_limit_org_requests_per_minute": 0,
        "rate_limit_exports_per_hour": 0,
        "rate_limit_org_exports_per_hour": 0,
        **limits,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Client:
    def __init__(self, client: httpx.AsyncClient, clock: FakeClock, limits: RateLimits) -> None:
        self.client = client
        self.clock = clock
        self.limits = limits

    async def post(self, key: str, query: str = ME, **variables: Any) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )


@pytest_asyncio.fixture(loop_scope="session")
async def make_client(db: Database) -> AsyncIterator[Any]:
    opened: list[httpx.AsyncClient] = []

    async def make(settings: Settings, clock: FakeClock | None = None) -> Client:
        app = create_app(settings, db=db, background=False)
        clock = clock or FakeClock()
        limits: RateLimits = app.state.limits
        limits.limiter.clock = clock
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        opened.append(client)
        return Client(client, clock, limits)

    yield make
    for client in opened:
        await client.aclose()


def assert_limited(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(retry_after)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == retry_after


async def test_per_key_budget_429_then_recovers(
    db: Database, org: OrgInfo, make_client: Any
) -> None:
    api = await make_client(limited(rate_limit_requests_per_minute=3))
    key = await create_api_key(db, org, ["customers:read"])
    other = await create_api_key(db, org, ["customers:read"])
    for _ in range(3):
        assert (await api.post(key)).status_code == 200
    # 3 a minute: one unit comes back every 20 s.
    assert_limited(await api.post(key), 20)
    # Another key of the org has its own budget (no org budget here).
    assert (await api.post(other)).status_code == 200
    api.clock.advance(19)
    assert_limited(await api.post(key), 1)
    api.clock.advance(1)
    assert (await api.post(key)).status_code == 200
    assert (await api.post(key)).status_code == 429
    # After a whole window the whole budget is back.
    api.clock.advance(60)
    for _ in range(3):
        assert (await api.post(key)).status_code == 200
    assert (await api.post(key)).status_code == 429


async def test_keys_of_one_org_share_the_org_budget(
    db: Database, org: OrgInfo, make_client: Any
) -> None:
    api = await make_client(limited(rate_limit_org_requests_per_minute=4))
    first = await create_api_key(db, org, ["customers:read"])
    second = await create_api_key(db, org, ["customers:read"])
    elsewhere = await create_org(
        db, f"org-{uuid.uuid4().hex[:10]}", name="Elsewhere", time_zone="UTC"
    )
    stranger = await create_api_key(db, elsewhere, ["customers:read"])
    for key in (first, second, first, second):
        assert (await api.post(key)).status_code == 200
    assert_limited(await api.post(first), 15)
    assert_limited(await api.post(second), 15)
    # Another organization's budget is untouched.
    assert (await api.post(stranger)).status_code == 200
    api.clock.advance(15)
    assert (await api.post(second)).status_code == 200


async def test_a_refusal_spends_nothing(db: Database, org: OrgInfo, make_client: Any) -> None:
    # The org budget refuses key A's 3rd request: key A's own budget is not spent by it.
    api = await make_client(
        limited(rate_limit_requests_per_minute=3, rate_limit_org_requests_per_minute=3)
    )
    a = await create_api_key(db, org, ["customers:read"])
    b = await create_api_key(db, org, ["customers:read"])
    assert (await api.post(a)).status_code == 200
    assert (await api.post(b)).status_code == 200
    assert (await api.post(b)).status_code == 200
    for _ in range(5):
        assert (await api.post(a)).status_code == 429
    api.clock.advance(60)
    for _ in range(2):
        assert (await api.post(a)).status_code == 200


async def test_zero_disables_and_defaults_are_generous(
    db: Database, org: OrgInfo, make_client: Any
) -> None:
    key = await create_api_key(db, org, ["customers:read"])
    off = await make_client(limited())
    for _ in range(50):
        assert (await off.post(key)).status_code == 200
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    # A partner app or the load test at tens of requests a second stays far below them.
    assert defaults.rate_limit_requests_per_minute >= 50 * 60
    assert defaults.rate_limit_org_requests_per_minute >= defaults.rate_limit_requests_per_minute
    assert defaults.rate_limit_exports_per_hour > 0
    assert defaults.rate_limit_org_exports_per_hour >= defaults.rate_limit_exports_per_hour


async def test_export_budget_answers_429_and_queues_nothing(
    db: Database, org: OrgInfo, make_client: Any
) -> None:
    await ingest_ok(db, org, make_customer("c1", name="Asha Rao"))
    api = await make_client(limited(rate_limit_exports_per_hour=2))
    key = await create_api_key(db, org, list(SCOPES))
    other = await create_api_key(db, org, list(SCOPES))
    for _ in range(2):
        response = await api.post(key, EXPORT, input=TAB)
        assert response.status_code == 200 and response.json()["data"]["requestExport"]
    refused = await api.post(key, EXPORT, input=TAB)
    # 2 an hour: the next one in 30 minutes.
    assert_limited(refused, 1800)
    assert refused.json()["data"] is None
    # Queries are not export requests: the key still reads.
    assert (await api.post(key)).status_code == 200
    assert (await api.post(other, EXPORT, input=TAB)).status_code == 200
    async with db.session(org.id) as session:
        jobs = await session.scalar(
            select(func.count()).select_from(ExportJob).where(ExportJob.org_id == org.id)  # type: ignore[arg-type]
        )
    assert jobs == 3
    api.clock.advance(1800)
    assert (await api.post(key, EXPORT, input=TAB)).status_code == 200


async def test_org_export_budget_is_shared_by_its_keys(
    db: Database, org: OrgInfo, make_client: Any
) -> None:
    await ingest_ok(db, org, make_customer("c1", name="Asha Rao"))
    api = await make_client(limited(rate_limit_org_exports_per_hour=3))
    a = await create_api_key(db, org, list(SCOPES))
    b = await create_api_key(db, org, list(SCOPES))
    for key in (a, a, b):
        assert (await api.post(key, EXPORT, input=TAB)).status_code == 200
    assert_limited(await api.post(b, EXPORT, input=TAB), 1200)
    assert_limited(await api.post(a, EXPORT, input=TAB), 1200)


async def test_users_and_keys_have_separate_buckets(org: OrgInfo) -> None:
    clock = FakeClock()
    limits = RateLimits(
        limited(rate_limit_requests_per_minute=1), RateLimiter(MemoryStore(), clock)
    )
    admin = Principal(org=org, scopes=ROLE_SCOPES["ADMIN"], user_id=7, role="ADMIN")
    same_id_key = Principal(org=org, scopes=frozenset(SCOPES), key_id=7)
    assert await limits.admit(admin) is None
    assert await limits.admit(same_id_key) is None
    refused = await limits.admit(admin)
    assert refused is not None and refused.status_code == 429
    assert refused.headers["retry-after"] == "60"


# ------------------------------------------------------------------------------ Redis


@pytest_asyncio.fixture(loop_scope="session")
async def redis_prefix() -> AsyncIterator[str]:
    import redis.asyncio as redis

    prefix = f"m360:test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_redis_limits_are_shared_by_two_processes(redis_prefix: str) -> None:
    clock = FakeClock()
    one = RateLimiter(RedisStore(REDIS_URL, prefix=redis_prefix), clock)
    two = RateLimiter(RedisStore(REDIS_URL, prefix=redis_prefix), clock)
    budgets = [Budget("req:key:1", 4, 60.0), Budget("req:org:1", 100, 60.0)]
    try:
        assert (await one.spend(budgets)).allowed
        assert (await two.spend(budgets)).allowed
        assert (await one.spend(budgets)).allowed
        assert (await two.spend(budgets)).allowed
        refused = await one.spend(budgets)
        assert not refused.allowed and refused.retry_after_seconds == 15
        assert not (await two.spend(budgets)).allowed
        # Another credential's bucket is its own.
        assert (await two.spend([Budget("req:key:2", 4, 60.0)])).allowed
        clock.advance(15)
        assert (await two.spend(budgets)).allowed
        assert not (await one.spend(budgets)).allowed
        clock.advance(60)
        for limiter in (one, two, one, two):
            assert (await limiter.spend(budgets)).allowed
        assert not (await one.spend(budgets)).allowed
    finally:
        await one.aclose()
        await two.aclose()


async def test_redis_refusal_spends_no_bucket(redis_prefix: str) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RedisStore(REDIS_URL, prefix=redis_prefix), clock)
    try:
        tight = Budget("org", 1, 60.0)
        assert (await limiter.spend([Budget("a", 2, 60.0), tight])).allowed
        for _ in range(3):
            assert not (await limiter.spend([Budget("a", 2, 60.0), tight])).allowed
        # "a" spent one unit only: one is left.
        assert (await limiter.spend([Budget("a", 2, 60.0)])).allowed
        assert not (await limiter.spend([Budget("a", 2, 60.0)])).allowed
    finally:
        await limiter.aclose()


async def test_two_api_processes_share_a_key_budget_through_redis(
    db: Database, org: OrgInfo, make_client: Any, redis_prefix: str
) -> None:
    settings = limited(rate_limit_requests_per_minute=3).model_copy(update={"redis_url": REDIS_URL})
    clock = FakeClock()
    first = await make_client(settings, clock)
    second = await make_client(settings, clock)
    for api in (first, second):
        assert isinstance(api.limits.limiter.store, RedisStore)
        # Both databases' key ids start at 1: a prefix per test keeps them apart.
        api.limits.limiter.store.prefix = f"{redis_prefix}{db.dialect}:"
    key = await create_api_key(db, org, ["customers:read"])
    assert (await first.post(key)).status_code == 200
    assert (await second.post(key)).status_code == 200
    assert (await first.post(key)).status_code == 200
    assert_limited(await second.post(key), 20)
    assert_limited(await first.post(key), 20)
    for api in (first, second):
        await api.limits.aclose()


async def test_unreachable_redis_falls_back_to_process_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RedisStore("redis://127.0.0.1:1/0"), clock)
    budget = [Budget("k", 2, 60.0)]
    try:
        assert (await limiter.spend(budget)).allowed
        assert (await limiter.spend(budget)).allowed
        assert not (await limiter.spend(budget)).allowed
    finally:
        await limiter.aclose()
    assert "rate limit store unavailable" in caplog.text


async def test_production_keeps_the_code_and_the_status(
    db: Database, org: OrgInfo, make_client: Any
) -> None:
    # Production masks errors without a code; RATE_LIMITED has one and keeps its 429.
    await ingest_ok(db, org, make_customer("c1", name="Asha Rao"))
    settings = limited(rate_limit_exports_per_hour=1).model_copy(update={"env": "production"})
    api = await make_client(settings)
    key = await create_api_key(db, org, list(SCOPES))
    assert (await api.post(key, EXPORT, input=TAB)).status_code == 200
    assert_limited(await api.post(key, EXPORT, input=TAB), 3600)


# ------------------------------------------------------------------------------ a sick Redis


class SickRedis:
    """A loopback TCP server in front of the real Redis: while `hung`, it accepts connections and
    never answers (what made every request wait half a second); once healed, it relays to
    127.0.0.1:6379. `connections` counts the times a client tried it."""

    def __init__(self) -> None:
        self.hung = True
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> SickRedis:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    def heal(self) -> None:
        self.hung = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        if self.hung:
            while await reader.read(65536):
                pass  # swallow every command, answer none
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 6379)
        self._writers.append(up_writer)

        async def relay(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(relay(reader, up_writer), relay(up_reader, writer))

    async def aclose(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


@pytest_asyncio.fixture(loop_scope="session")
async def sick_redis() -> AsyncIterator[SickRedis]:
    server = await SickRedis().start()
    yield server
    await server.aclose()


def _store_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "member360.ratelimit"]


async def test_a_hung_redis_opens_the_breaker_then_shared_budgets_resume(
    sick_redis: SickRedis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RedisStore(sick_redis.url, prefix=redis_prefix), clock)
    budget = [Budget("key:1", 2, 60.0)]
    try:
        with caplog.at_level(logging.INFO, logger="member360.ratelimit"):
            # The first request asks Redis, which never answers: it times out and falls back.
            assert (await limiter.spend(budget)).allowed
            assert limiter.breaker.state == "open" and sick_redis.connections == 1
            # Open: nobody asks Redis; this process's own budget of 2 a minute applies.
            assert (await limiter.spend(budget)).allowed
            refused = await limiter.spend(budget)
            assert not refused.allowed and refused.retry_after_seconds == 30
            assert sick_redis.connections == 1

            # After the back-off one request tries again; it fails, and the back-off doubles.
            clock.advance(BREAKER_BACKOFF)
            assert (await limiter.spend([Budget("key:2", 5, 60.0)])).allowed
            assert sick_redis.connections == 2 and limiter.breaker.state == "open"
            assert limiter.breaker.retry_at == clock.now + 2 * BREAKER_BACKOFF
            clock.advance(BREAKER_BACKOFF)
            await limiter.spend([Budget("key:2", 5, 60.0)])
            assert sick_redis.connections == 2  # not yet

            # Redis is back: the next try after the back-off closes the breaker, and the
            # budget is the one every process shares again.
            sick_redis.heal()
            clock.advance(BREAKER_BACKOFF)
            shared = [Budget("key:3", 2, 60.0)]
            assert (await limiter.spend(shared)).allowed
            assert limiter.breaker.state == "closed" and sick_redis.connections == 3
            other_process = RateLimiter(RedisStore(REDIS_URL, prefix=redis_prefix), clock)
            try:
                assert (await other_process.spend(shared)).allowed
                assert not (await limiter.spend(shared)).allowed
                assert not (await other_process.spend(shared)).allowed
            finally:
                await other_process.aclose()
    finally:
        await limiter.aclose()
    # One line per change of state, however many requests went by.
    messages = _store_messages(caplog)
    assert len(messages) == 2, messages
    assert messages[0].startswith("rate limit store unavailable (TimeoutError)")
    assert messages[1] == "rate limit store reachable again; limits are shared again"


async def test_while_one_request_retries_redis_the_others_do_not_wait(
    sick_redis: SickRedis, redis_prefix: str
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RedisStore(sick_redis.url, prefix=redis_prefix), clock)
    try:
        await limiter.spend([Budget("k", 100, 60.0)])
        assert limiter.breaker.state == "open"
        clock.advance(BREAKER_BACKOFF)
        decisions = await asyncio.gather(
            *(limiter.spend([Budget("k", 100, 60.0)]) for _ in range(10))
        )
        assert all(d.allowed for d in decisions)
        assert sick_redis.connections == 2  # the first request's, and one retry for all ten
    finally:
        await limiter.aclose()


def test_the_breaker_backs_off_up_to_its_cap_and_a_cancelled_retry_frees_the_next() -> None:
    breaker = CircuitBreaker(backoff=1.0, cap=8.0)
    assert breaker.ticket(0.0) == "call"
    assert breaker.failed("call", 0.0) is True  # opened: worth a log line
    assert breaker.failed("call", 0.0) is False  # a request already in flight: no new line
    now = 0.0
    for expected in (2.0, 4.0, 8.0, 8.0):
        now = breaker.retry_at
        assert breaker.ticket(now - 0.01) is None
        probe = breaker.ticket(now)
        assert probe == "probe" and breaker.ticket(now) is None  # one retry at a time
        assert breaker.failed(probe, now) is False
        assert breaker.retry_at - now == expected
    probe = breaker.ticket(breaker.retry_at)
    breaker.abandoned(probe)  # the request was cancelled mid-call
    assert breaker.ticket(breaker.retry_at) == "probe"
    assert breaker.succeeded("probe") is True and breaker.state == "closed"
    assert breaker.ticket(now) == "call"


async def test_requests_through_the_app_do_not_wait_on_a_hung_redis(
    db: Database, org: OrgInfo, make_client: Any, sick_redis: SickRedis
) -> None:
    settings = limited(rate_limit_requests_per_minute=3).model_copy(
        update={"redis_url": sick_redis.url}
    )
    api = await make_client(settings)
    key = await create_api_key(db, org, ["customers:read"])
    try:
        for _ in range(3):
            assert (await api.post(key)).status_code == 200
        # The process's own budget still refuses the 4th of the minute.
        assert_limited(await api.post(key), 20)
        # Only the first request waited on Redis (one connection, then the breaker).
        assert sick_redis.connections == 1
        assert api.limits.limiter.breaker.state == "open"
    finally:
        await api.limits.aclose()


def test_the_redis_client_gives_up_quickly_and_does_not_retry() -> None:
    store = RedisStore(REDIS_URL)
    kwargs = store.client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == REDIS_TIMEOUT <= 0.1
    assert kwargs["socket_connect_timeout"] == REDIS_CONNECT_TIMEOUT <= 0.25
    # The circuit breaker decides when to try again, not redis-py's own retries.
    assert store.client.get_retry().get_retries() == 0
