"""The single-page app: built files from frontend/dist, and index.html for every app route.

`spa_routes(dist)` goes last in the route list. Hashed bundles under /assets are cached for a
year; index.html is never stored, so a new build is picked up on the next load. Any other GET
outside the API's own paths answers index.html, so a deep link (/customers/CUST-1/points)
survives a reload; the router in the browser decides what it shows.

The component library writes its CSS variables and responsive styles into <style> elements,
which the app's Content-Security-Policy (`style-src 'self'`) refuses. Rather than allowing
every inline style, each index.html response carries a fresh nonce: in the page (a
`csp-nonce` meta tag the app hands to Mantine) and in that response's own policy.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

# Paths the API owns: a miss there is a 404, never the app's index page.
API_PREFIXES = ("/graphql", "/exports", "/auth", "/livez", "/readyz", "/assets")

IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
NONCE_PLACEHOLDER = "__CSP_NONCE__"
NOT_BUILT = (
    "The web app is not built. Run `make install` (or `npm ci && npm run build` in frontend/)."
)


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


def _base_policy() -> str:
    try:
        from member360.security import CONTENT_SECURITY_POLICY
    except ImportError:  # the hardening module is optional for the SPA
        return "default-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'"
    return CONTENT_SECURITY_POLICY


def policy_with_nonce(policy: str, nonce: str) -> str:
    """The policy with `'nonce-…'` added to style-src (a style-src is added if it has none)."""
    source = f"'nonce-{nonce}'"
    if re.search(r"(^|;)\s*style-src\b", policy):
        return re.sub(r"((?:^|;)\s*style-src\b[^;]*)", rf"\1 {source}", policy, count=1)
    return f"{policy}; style-src 'self' {source}"


class _Assets(StaticFiles):
    """Vite's content-hashed bundles: safe to cache forever."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.directory is None or not await anyio.Path(self.directory).is_dir():
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in IMMUTABLE.items()),
                ]
            await send(message)

        await super().__call__(scope, receive, send_with_cache)


def spa_routes(dist: Path) -> list[BaseRoute]:
    dist = dist.resolve()
    index = dist / "index.html"
    base_policy = _base_policy()

    async def app_page(request: Request) -> Response:
        path = request.url.path
        if is_api_path(path):
            return PlainTextResponse("Not Found", status_code=404)
        # Top-level files of the build (favicon.svg, robots.txt …), never outside dist.
        name = request.path_params.get("path", "")
        if name and "/" not in name:
            candidate = dist / name
            if name not in {".", "..", "index.html"} and await anyio.Path(candidate).is_file():
                return FileResponse(candidate)
        try:
            page = await anyio.Path(index).read_text(encoding="utf-8")
        except FileNotFoundError:
            return PlainTextResponse(NOT_BUILT, status_code=503)
        nonce = secrets.token_urlsafe(18)
        return HTMLResponse(
            page.replace(NONCE_PLACEHOLDER, nonce),
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": policy_with_nonce(base_policy, nonce),
            },
        )

    return [
        Mount("/assets", app=_Assets(directory=dist / "assets", check_dir=False), name="assets"),
        Route("/{path:path}", app_page, methods=["GET", "HEAD"], name="spa"),
    ]
