"""A database that cannot be reached answers 503, not 500.

While PostgreSQL restarts (or a managed database fails over), the first statement of a request
fails with a connection error: asyncpg refuses to connect, the server says it is starting up
or shutting down, or a pooled connection turns out to be dead. Without this middleware such an
error escapes to Starlette's last-resort handler (500 and a logged stack trace per request).
`DatabaseUnavailableMiddleware` answers those requests with 503, a `Retry-After`, and a
GraphQL-shaped body with `extensions.code` UNAVAILABLE; clients and load balancers retry, and
the pool replaces dead connections on the next checkout (`pool_pre_ping`), so requests succeed
again as soon as the database is back. Any other exception goes on to the normal 500.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from member360.graphql.errors import UNAVAILABLE

log = logging.getLogger("member360")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "the service is temporarily unavailable; retry shortly"

# asyncpg's connection-level errors, by name: the module is optional (SQLite deployments).
_CONNECTION_ERRORS = {
    "CannotConnectNowError",  # "the database system is starting up / shutting down"
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "AdminShutdownError",
    "CrashShutdownError",
    "InterfaceError",
    "ConnectionRefusedError",
    "TooManyConnectionsError",
}


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "no database right now", looking through wrapped causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if type(current).__name__ in _CONNECTION_ERRORS:
            return True
        current = current.__cause__ or current.__context__
    return False


class DatabaseUnavailableMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not is_database_unavailable(exc):
                raise
            # One line, no stack: during an outage every request lands here.
            log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
            response = JSONResponse(
                {
                    "errors": [
                        {
                            "message": UNAVAILABLE_MESSAGE,
                            "extensions": {"code": UNAVAILABLE},
                        }
                    ]
                },
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
