"""create_app(): the Starlette application (GraphQL, health checks) and its background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from member360.auth.keys import KeyResolver, Principal
from member360.auth.routes import (
    CSRF_HEADER,
    SESSION_COOKIE,
    auth_routes,
    session_principal,
)
from member360.auth.users import Authenticator, LoginPolicy
from member360.config import Settings, get_settings
from member360.db import Database
from member360.exports.jobs import JobRunner
from member360.exports.routes import download_endpoint
from member360.graphql.context import Context, make_context
from member360.graphql.schema import schema_for
from member360.ingest.expiry import expiry_loop
from member360.logs import RequestLogMiddleware, bind_principal
from member360.ratelimit import RateLimits, retry_after_of
from member360.security import (
    GRAPHIQL_CONTENT_SECURITY_POLICY,
    BodySizeLimitMiddleware,
    GraphQLRequestGuard,
    SecurityHeadersMiddleware,
    refusal,
)
from member360.spa import spa_routes
from member360.unavailable import DatabaseUnavailableMiddleware

log = logging.getLogger("member360")


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(self, request: Any, response: Any = None) -> Context | None:
        state = request.scope.get("state") or {}
        if "principal" not in state:
            return None  # only the explorer page gets past AuthGate without a principal
        context = make_context(state["db"], state["principal"], state["settings"])
        context.queue = state.get("queue")
        context.limits = state.get("limits")
        state["context"] = context  # AuthGate closes its session after the response
        return context

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        retry_after = retry_after_of(response_data)
        if retry_after is not None:
            # A resolver refused on a rate limit (requestExport): the whole answer is a 429.
            response.status_code = 429
            response.headers["Retry-After"] = str(retry_after)
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses invalid UTF-8 with a JSONDecodeError (json.loads raises a
        # UnicodeDecodeError that Strawberry would answer with a 500), and only an object is
        # a request (the GET `variables` parameter comes here too).
        value = orjson.loads(data)
        if not isinstance(value, dict | list):
            raise orjson.JSONDecodeError("not a JSON object", str(data)[:20], 0)
        return value

    async def render_graphql_ide(self, request: Request) -> Response:
        response = await super().render_graphql_ide(request)
        # The page loads GraphiQL from its CDN (development only: production has no IDE).
        response.headers["Content-Security-Policy"] = GRAPHIQL_CONTENT_SECURITY_POLICY
        return response


class AuthGate:
    """Lets a request reach GraphQL only with a valid credential; anything else gets HTTP 401.

    Credentials: an API key (`Authorization: Bearer …`, partner apps) or a web-app session
    cookie. A cookie-authenticated request must also carry the session's CSRF token in
    `X-CSRF-Token` (403 CSRF_FAILED otherwise): browsers attach cookies to cross-site requests,
    but a foreign page cannot read the token to echo it.

    The GraphiQL page itself (a browser GET for HTML) loads without one, so a newcomer can
    paste the demo key into its headers.
    """

    def __init__(
        self,
        app: GraphQLApp,
        db: Database,
        keys: KeyResolver,
        settings: Settings,
        users: Authenticator,
    ) -> None:
        self.app = app
        self.db = db
        self.keys = keys
        self.settings = settings
        self.users = users
        self.queue: Any = None  # the procrastinate app, when jobs go to workers
        self.limits: RateLimits | None = None  # member360.ratelimit: 429 past a budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if (
            scope["method"] == "GET"
            and "text/html" in headers.get("accept", "")
            and not scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        principal, refusal = await self._authenticate(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        bind_principal(principal)  # log lines name the org and the key or user id
        if self.limits is not None and (refused := await self.limits.admit(principal)):
            await refused(scope, receive, send)
            return
        scope.setdefault("state", {})
        scope["state"]["principal"] = principal
        scope["state"]["db"] = self.db
        scope["state"]["settings"] = self.settings
        scope["state"]["queue"] = self.queue
        scope["state"]["limits"] = self.limits
        try:
            await self.app(scope, receive, send)
        finally:
            context = scope["state"].pop("context", None)
            if context is not None:
                await context.aclose()

    async def _authenticate(
        self, headers: dict[str, str]
    ) -> tuple[Principal | None, JSONResponse | None]:
        auth = headers.get("authorization", "")
        principal = None
        if auth.lower().startswith("bearer "):
            principal = await self.keys.resolve(auth[7:].strip())
        elif session_token := cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE):
            signed_in = await session_principal(self.users, session_token)
            if signed_in is not None:
                if not signed_in.csrf_matches(headers.get(CSRF_HEADER)):
                    return None, refusal(
                        403, "CSRF_FAILED", "X-CSRF-Token: missing or does not match the session"
                    )
                principal = signed_in.principal
        if principal is None:
            return None, refusal(
                401,
                "UNAUTHENTICATED",
                "missing or invalid credentials",
                {"WWW-Authenticate": 'Bearer realm="member360"'},
            )
        return principal, None


def _client_address_middleware(settings: Settings) -> list[Middleware]:
    """Outermost: behind a trusted proxy the client is the right-most untrusted X-Forwarded-For
    address; from any other peer the header is ignored.

    uvicorn's own middleware does the parsing (`member360 serve` turns uvicorn's copy off, whose
    default trusts 127.0.0.1), so the rule is the same under any ASGI server and in tests, and
    everything after it (sign-in lockouts, audit entries, log lines) reads `scope["client"]`.
    """
    networks = settings.trusted_proxy_networks
    if not networks:
        return []
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=networks)]


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    background: bool = True,
) -> Starlette:
    settings = settings or get_settings()
    database = db or Database(settings.database_url)
    owns_db = db is None
    keys = KeyResolver(database)
    production = settings.production
    graphql_app = GraphQLApp(
        schema_for(production=production),
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=not production,
    )
    users = Authenticator(
        database,
        settings.secret_key,
        LoginPolicy(
            max_failures_per_account=settings.login_max_failures_per_account,
            max_failures_per_address=settings.login_max_failures_per_address,
            window_seconds=settings.login_lockout_seconds,
            session_hours=settings.session_hours,
        ),
    )
    gate = AuthGate(graphql_app, database, keys, settings, users)
    limits = gate.limits = RateLimits.from_settings(settings)

    async def livez(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        try:
            async with database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # readiness reports any database failure as not ready
            return JSONResponse(
                {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
            )
        return JSONResponse({"status": "ok"})

    if production and not settings.secure_cookies:
        log.warning(
            "M360_PUBLIC_URL is %s: session cookies are not Secure, so sign-ins travel without "
            "TLS; put an HTTPS proxy in front and set M360_PUBLIC_URL to https:// (README, TLS)",
            settings.public_url,
        )

    spa_dir = Path(settings.spa_dir)

    async def home(_: Request) -> Response:
        return HTMLResponse(
            "<!doctype html><title>Member360</title><h1>Member360</h1>"
            "<p>The web app is not built here (run <code>make install</code>). "
            'The GraphQL API and its explorer are at <a href="/graphql">/graphql</a>.</p>'
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        tasks = []
        queue_app = None
        if settings.job_queue == "procrastinate":
            # Workers run jobs and expiry; this process only defers jobs to them.
            from member360.exports.queue import make_app

            queue_app = make_app(settings)
            await queue_app.open_async()
            gate.queue = queue_app
        elif background and not settings.external_workers:
            # The embedded default: expiry and export jobs run inside the API process.
            tasks.append(
                asyncio.create_task(expiry_loop(database, settings.expiry_interval_seconds))
            )
            tasks.append(asyncio.create_task(JobRunner(database, settings).run_forever()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if queue_app is not None:
                await queue_app.close_async()
            await limits.aclose()
            if owns_db:
                await database.dispose()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLRequestGuard(gate, production=production),
                methods=["GET", "POST"],
            ),
            Route("/exports/{token}", download_endpoint(database, settings)),
            *auth_routes(users, secure_cookies=settings.secure_cookies),
            Route("/livez", livez),
            Route("/readyz", readyz),
            # The web app (deep links fall back to index.html); without a build, a pointer page.
            *(spa_routes(spa_dir) if (spa_dir / "index.html").is_file() else [Route("/", home)]),
        ],
        lifespan=lifespan,
        middleware=[
            *_client_address_middleware(settings),
            # Outermost but for that: every answer (errors and headers included) is logged once.
            Middleware(RequestLogMiddleware),
            Middleware(SecurityHeadersMiddleware, production=production),
            # Before any route (and authentication) reads a byte of the body.
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
            # Inside the headers middleware, so a 503 during a database outage carries them.
            Middleware(DatabaseUnavailableMiddleware),
        ],
    )
    app.state.db = database
    app.state.limits = limits
    app.state.keys = keys  # tests pass its clock to see a revoked key's cache entry lapse
    app.state.started_at = dt.datetime.now(dt.UTC)
    return app
