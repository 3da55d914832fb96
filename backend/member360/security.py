"""HTTP hardening: security headers on every response, and what /graphql accepts.

`SecurityHeadersMiddleware` adds the headers to every response the app sends, errors
included, unless a route set its own (the GraphiQL page in development sets a looser CSP so
that it can load from its CDN).

`BodySizeLimitMiddleware` refuses a request body over `M360_MAX_BODY_BYTES` with 413
PAYLOAD_TOO_LARGE before anything parses it: at once when Content-Length says so, else (a
chunked body) as soon as the bytes read pass the limit.

`GraphQLRequestGuard` sits in front of /graphql (before authentication) and refuses, each
with a JSON error and a stable `extensions.code`:

- a JSON array body (batching): 400 BATCHING_DISABLED; any other body that is no JSON
  object: 400 BAD_REQUEST;
- a POST that is not `application/json` (form posts and text/plain are what a cross-site
  form can send without a CORS preflight): 415 UNSUPPORTED_MEDIA_TYPE;
- in production any GET (queries travel only as JSON POSTs), and in development a GET whose
  document holds a mutation (GraphQL over GET must never change anything): 405
  METHOD_NOT_ALLOWED.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from member360.graphql.errors import BATCHING_DISABLED
from member360.graphql.limits import parse_document

# A same-origin single-page app: scripts, styles, fonts and API calls from this origin only
# (ship CSS as files: inline <style> elements are refused), no plugins, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The development GraphiQL page: Strawberry's template loads GraphiQL from unpkg and starts
# it with an inline script.
GRAPHIQL_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://unpkg.com",
        "style-src 'self' 'unsafe-inline' https://unpkg.com",
        "img-src 'self' data: https://unpkg.com",
        "font-src 'self' data: https://unpkg.com",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
# Two years, the preload list's minimum; production runs behind TLS.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


def security_headers(*, production: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",  # export links carry their token in the path
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if production:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (a header a route set stays)."""

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.headers = security_headers(production=production)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's outermost error handler answers 500 without passing through this
            # middleware; answer here instead, so the 500 carries the headers too.
            if not started:
                response = PlainTextResponse("Internal Server Error", status_code=500)
                await response(scope, receive, send_with_headers)
            raise


class BodySizeLimitMiddleware:
    """Reads each request's body, up to `max_bytes`, before the app sees any of it (module doc).

    Every route that takes a body (/graphql, /auth/*) reads it whole to parse JSON anyway, so
    holding it here costs about what their own read does, and the app gets it as one message.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        pending: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending.append(message)  # the client left: the app hears it after the body
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        pending.insert(0, {"type": "http.request", "body": b"".join(chunks), "more_body": False})

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = refusal(
            413,
            PAYLOAD_TOO_LARGE,
            f"the request body is larger than {self.max_bytes} bytes",
            # The rest of the body stays unread: the connection cannot carry another request.
            {"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app
    return None


def refusal(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=dict(headers or {}),
    )


def _media_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            # As GraphQL reads it: "Application/JSON" would reach it as unsupported.
            return value.decode("latin-1").split(";", 1)[0].strip()
    return ""


def _has_mutation(query: str) -> bool:
    try:
        document = parse_document(query)
    except GraphQLError:
        return False  # GraphQL answers the parse error itself
    return any(
        isinstance(d, OperationDefinitionNode) and d.operation != OperationType.QUERY
        for d in document.definitions
    )


class GraphQLRequestGuard:
    """Refuses what /graphql never serves before it reaches authentication (module doc)."""

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = None
        method = scope["method"]
        if method in ("GET", "HEAD"):
            response = self._check_get(scope)
        elif method == "POST":
            if _media_type(scope) != "application/json":
                response = refusal(
                    415,
                    UNSUPPORTED_MEDIA_TYPE,
                    "send GraphQL requests as POST with Content-Type: application/json",
                )
            else:
                first, receive = await _peek(receive)
                if first == ord("["):
                    response = refusal(
                        400,
                        BATCHING_DISABLED,
                        "batched requests (a JSON array) are not accepted: send one operation "
                        "per request",
                    )
                elif first != ord("{"):
                    response = refusal(
                        400,
                        BAD_REQUEST,
                        'the body must be one JSON object: {"query": "...", "variables": {...}}',
                    )
        if response is not None:
            await response(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Answers hold personal data: no browser or proxy keeps them.
                MutableHeaders(scope=message).setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_no_store)

    def _check_get(self, scope: Scope) -> JSONResponse | None:
        allow = {"Allow": "POST"}
        if self.production:
            return refusal(
                405,
                METHOD_NOT_ALLOWED,
                "GET is not accepted: POST the operation as application/json",
                allow,
            )
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if any(_has_mutation(q) for q in params.get("query", [])):
            return refusal(
                405,
                METHOD_NOT_ALLOWED,
                "mutations are not accepted over GET: POST them as application/json",
                allow,
            )
        return None


async def _peek(receive: Receive) -> tuple[int | None, Receive]:
    """The body's first byte past whitespace (and a BOM), and a receive that replays it."""
    consumed: list[Message] = []
    first: int | None = None
    while True:
        message = await receive()
        consumed.append(message)
        if message["type"] != "http.request":
            break
        body = message.get("body", b"").lstrip(b" \t\r\n\xef\xbb\xbf")
        if body:
            first = body[0]
            break
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        if consumed:
            return consumed.pop(0)
        return await receive()

    return first, replay
