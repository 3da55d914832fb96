"""/auth/login, /auth/logout and /auth/me: the web app's sign-in (contract, "Tenancy and access").

Sign-in takes JSON only: a cross-site form can post url-encoded or text bodies without a CORS
preflight, never application/json, so a foreign page cannot sign a browser into an account of
the attacker's choosing.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from member360.auth.keys import Principal
from member360.auth.users import Authenticator, TooManyAttempts, UserPrincipal

SESSION_COOKIE = "m360_session"
CSRF_COOKIE = "m360_csrf"
CSRF_HEADER = "x-csrf-token"


def auth_error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def user_json(principal: Principal) -> dict[str, Any]:
    org = principal.org
    return {
        "user": {
            "email": principal.user_email,
            "role": principal.role,
            "org": {"slug": org.slug, "name": org.name, "timeZone": org.time_zone},
        }
    }


def client_address(request: Request) -> str:
    # The connection's peer, or behind a proxy listed in M360_TRUSTED_PROXIES the client it
    # forwarded for (create_app resolves it before any route runs).
    return request.client.host if request.client else "unknown"


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        return auth_error(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    raw = await request.body()
    if len(raw) > 16_384:
        return auth_error(413, "BAD_REQUEST", "body: too large")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return auth_error(400, "BAD_REQUEST", "body: not valid JSON")
    if not isinstance(body, dict):
        return auth_error(400, "BAD_REQUEST", "body: must be a JSON object")
    return body


def auth_routes(auth: Authenticator, *, secure_cookies: bool) -> list[Route]:
    def set_cookies(response: Response, token: str, csrf: str, max_age: int) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=secure_cookies,
            samesite="lax",
        )
        # Readable by the SPA on purpose: it echoes the value in X-CSRF-Token.
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            max_age=max_age,
            path="/",
            httponly=False,
            secure=secure_cookies,
            samesite="lax",
        )

    async def login(request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        for field in ("email", "password"):
            value = body.get(field)
            if not isinstance(value, str) or not value:
                return auth_error(400, "BAD_REQUEST", f"{field}: required, a non-empty string")
        try:
            new = await auth.login(body["email"], body["password"], client_address(request))
        except TooManyAttempts as exc:
            return auth_error(
                429, "TOO_MANY_ATTEMPTS", str(exc), **{"Retry-After": str(exc.retry_after)}
            )
        if new is None:
            return auth_error(401, "INVALID_CREDENTIALS", "wrong email or password")
        response = JSONResponse(user_json(new.principal))
        max_age = int(auth.policy.session_hours * 3600)
        set_cookies(response, new.token, new.csrf_token, max_age)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            signed_in = await auth.resolve(token)
            # Logging out is a state change too: a foreign page must not sign users out.
            if signed_in is not None and not signed_in.csrf_matches(
                request.headers.get(CSRF_HEADER)
            ):
                return auth_error(403, "CSRF_FAILED", "X-CSRF-Token: missing or wrong")
            await auth.logout(token, client_address(request))
        response = Response(status_code=204)
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/", secure=secure_cookies, samesite="lax")
        return response

    async def me(request: Request) -> Response:
        signed_in = await session_principal(auth, request.cookies.get(SESSION_COOKIE))
        if signed_in is None:
            return auth_error(401, "UNAUTHENTICATED", "not signed in, or the session ended")
        response = JSONResponse(user_json(signed_in.principal))
        response.headers["Cache-Control"] = "no-store"
        return response

    return [
        Route("/auth/login", login, methods=["POST"]),
        Route("/auth/logout", logout, methods=["POST"]),
        Route("/auth/me", me, methods=["GET"]),
    ]


async def session_principal(auth: Authenticator, token: str | None) -> UserPrincipal | None:
    if not token or len(token) > 128:
        return None
    return await auth.resolve(token)
