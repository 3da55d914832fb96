"""Structured logs: one JSON object per line, with the request's id, org, operation and caller.

`RequestLogMiddleware` (outermost but for the proxy-header resolver) gives every HTTP request
an id (a sane incoming `X-Request-ID`, else a new one), echoes it in the response header, and
writes one "request" line at the end (method, path, status, duration, and the client: the
connection's peer, or behind a proxy in M360_TRUSTED_PROXIES the client it forwarded for).
While the request runs, a `LogScope` in a context variable carries the org, the GraphQL
operation name and the principal; every line logged meanwhile, by any logger, carries them too.

What never reaches a log line: query text, variables (search strings, emails, filters),
Authorization and Cookie headers, query strings, and export tokens (the /exports/{token}
path is logged as /exports/[redacted]). GraphQL errors are logged by `log_graphql_errors`
with their code, path and a message whose quoted values are cut, instead of Strawberry's
default (which prints the document around the error). As a last line of defence the
formatter masks anything shaped like an email address or an export link.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import logging.config
import re
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from member360.graphql.errors import INTERNAL_SERVER_ERROR

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_EXPORT_PATH = re.compile(r"/exports/[^\s/?\"']+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SQL_TAIL = re.compile(r"\s*(\[SQL:|DETAIL:).*", re.DOTALL)
# Extra attributes a record may carry (log.info(..., extra={...})) that the JSON line keeps.
EXTRA_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "client",
    "code",
    "graphql_path",
    "error_type",
    "retry_after",
    "job_id",
)
QUIET_PATHS = ("/livez", "/readyz")

log = logging.getLogger("member360.request")
graphql_log = logging.getLogger("member360.graphql")


@dataclass
class LogScope:
    """What the current request (or job) is about; mutated as the request learns it."""

    request_id: str | None = None
    org_id: int | None = None
    operation: str | None = None
    principal: str | None = None  # "api-key:12" or "user:5": ids, never an email


_scope: contextvars.ContextVar[LogScope | None] = contextvars.ContextVar(
    "member360_log_scope", default=None
)


def current() -> LogScope | None:
    return _scope.get()


@contextlib.contextmanager
def log_scope(**fields: Any) -> Iterator[LogScope]:
    """Lines logged inside carry these fields (e.g. a job's org and operation)."""
    scope = LogScope(**fields)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def principal_label(principal: Any) -> str:
    if getattr(principal, "user_id", None) is not None:
        return f"user:{principal.user_id}"
    return f"api-key:{principal.key_id}"


def bind_principal(principal: Any) -> None:
    """Tells the current request's log lines who calls (its org and key or user id)."""
    scope = _scope.get()
    if scope is not None:
        scope.org_id = principal.org.id
        scope.principal = principal_label(principal)


def bind(**fields: Any) -> None:
    scope = _scope.get()
    if scope is not None:
        for name, value in fields.items():
            setattr(scope, name, value)


def redact(text: str) -> str:
    """Masks email addresses and export links in free text."""
    return _EXPORT_PATH.sub("/exports/[redacted]", _EMAIL.sub("[email]", text))


def safe_path(path: str) -> str:
    if path.startswith("/exports/"):
        return "/exports/[redacted]"
    return path


# ------------------------------------------------------------------------------ formatters


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, the request's scope, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        scope = _scope.get()
        if scope is not None:
            entry["request_id"] = scope.request_id
            entry["org_id"] = scope.org_id
            entry["operation"] = scope.operation
            entry["principal"] = scope.principal
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Development: a readable line, with the same scope and redaction."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        scope = _scope.get()
        parts = []
        if scope is not None:
            parts = [
                f"{k}={v}"
                for k, v in (
                    ("rid", scope.request_id),
                    ("org", scope.org_id),
                    ("op", scope.operation),
                    ("by", scope.principal),
                )
                if v is not None
            ]
        parts += [f"{n}={record.__dict__[n]}" for n in EXTRA_FIELDS if n in record.__dict__]
        return f"{line} [{' '.join(parts)}]" if parts else line


def logging_config(*, json: bool, level: str) -> dict[str, Any]:
    """A dictConfig for the app and uvicorn (uvicorn applies it in every worker process)."""
    formatter = "member360.logs.JsonFormatter" if json else "member360.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Off: it logs query strings and token paths; RequestLogMiddleware logs requests.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            # Replaced by log_graphql_errors (its default prints the document).
            "strawberry.execution": {"handlers": [], "propagate": False},
            "sqlalchemy": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},
            # Its INFO lines carry whole URLs (the SMS gateway's, with any query string).
            "httpx": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Any) -> dict[str, Any]:
    config = logging_config(json=settings.json_logs, level=settings.log_level)
    logging.config.dictConfig(config)
    return config


# ------------------------------------------------------------------------------ middleware


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Request id in, request id out, one line per request (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with log_scope(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                path = safe_path(scope.get("path", ""))
                client = scope.get("client")
                log.log(
                    logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    status,
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )


# ------------------------------------------------------------------------------ GraphQL


def operation_label(document: Any, operation_name: str | None) -> str | None:
    """The operation's name; for an anonymous one, its type and top-level fields."""
    if operation_name:
        return operation_name[:100]
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return None
    operation = operations[0]
    if operation.name is not None:
        return operation.name.value[:100]
    fields = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    return f"{operation.operation.value}:{','.join(fields)}"[:100]


class OperationLogExtension(SchemaExtension):
    """Puts the GraphQL operation's name into the request's log scope."""

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if _scope.get() is not None:
            try:
                label = operation_label(ctx.graphql_document, ctx.operation_name)
            except Exception:  # naming the operation must never fail the request
                label = None
            bind(operation=label)
        yield


def safe_message(message: str) -> str:
    """An error message without the values it quotes (they may be a member's data)."""
    return redact(_QUOTED.sub("'…'", message))


def log_graphql_errors(errors: Sequence[GraphQLError]) -> None:
    """One line per error: its code, path and message (quoted values cut), never the query.

    An error without a code is unexpected: it is logged at ERROR with the exception's type,
    its message (cut like the others, and cut before a database error's "DETAIL:" or "[SQL:"
    part, which repeat row values and the statement's parameters) and the stack frames (no
    local values).
    """
    for error in errors:
        code = (error.extensions or {}).get("code")
        path = ".".join(str(p) for p in error.path) if error.path else None
        if code is not None:
            graphql_log.info(
                "graphql error: %s",
                safe_message(error.message),
                extra={"code": code, "graphql_path": path},
            )
            continue
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            # A request error found before execution (variables that do not coerce, …).
            graphql_log.info(
                "graphql error: %s", safe_message(error.message), extra={"graphql_path": path}
            )
            continue
        stack = (
            "".join(traceback.format_tb(original.__traceback__))
            if original is not None and original.__traceback__ is not None
            else None
        )
        graphql_log.error(
            "unexpected error %s: %s%s",
            type(original).__name__,
            safe_message(_SQL_TAIL.sub("", str(original))),
            f"\n{stack}" if stack else "",
            extra={
                "code": INTERNAL_SERVER_ERROR,
                "graphql_path": path,
                "error_type": type(original).__name__,
            },
        )
