"""The SPA's routes: built files, index.html for app paths (deep links), the API's paths left alone."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from member360.spa import NOT_BUILT, is_api_path, policy_with_nonce, spa_routes

INDEX = '<!doctype html><meta name="csp-nonce" content="__CSP_NONCE__" /><div id="root"></div>'


def build(dist: Path) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX, encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "favicon.svg").write_text("<svg/>", encoding="utf-8")


def app_with(dist: Path) -> Starlette:
    async def livez(_: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/livez", livez), *spa_routes(dist)])


async def get(app: Starlette, path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        return await client.get(path)


async def test_deep_links_get_the_index_page_with_a_fresh_style_nonce(tmp_path: Path) -> None:
    build(tmp_path)
    app = app_with(tmp_path)
    first = await get(app, "/customers/CUST-1/points/redemptions?after=abc")
    second = await get(app, "/")
    for response in (first, second):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-store"
        nonce = re.search(r'name="csp-nonce" content="([^"]+)"', response.text)
        assert nonce and nonce.group(1) != "__CSP_NONCE__"
        assert f"'nonce-{nonce.group(1)}'" in response.headers["content-security-policy"]
    assert first.text != second.text  # a new nonce every time


async def test_assets_are_cached_for_good_and_top_level_files_served(tmp_path: Path) -> None:
    build(tmp_path)
    app = app_with(tmp_path)
    asset = await get(app, "/assets/index-abc123.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]
    assert (await get(app, "/assets/missing.js")).status_code == 404
    icon = await get(app, "/favicon.svg")
    assert icon.status_code == 200 and icon.text == "<svg/>"


async def test_api_paths_are_never_the_index_page(tmp_path: Path) -> None:
    build(tmp_path)
    app = app_with(tmp_path)
    assert (await get(app, "/livez")).text == "ok"
    for path in ("/graphql/x", "/exports", "/exports/tok/extra", "/auth/whoami", "/readyz/x"):
        assert (await get(app, path)).status_code == 404, path
    # Look-alikes are app paths.
    assert (await get(app, "/export-jobs")).status_code == 200
    assert is_api_path("/graphql") and not is_api_path("/graphqlx")


async def test_no_build_answers_503_with_the_fix(tmp_path: Path) -> None:
    app = app_with(tmp_path / "missing")
    response = await get(app, "/customers")
    assert response.status_code == 503 and response.text == NOT_BUILT
    assert (await get(app, "/assets/index.js")).status_code == 404


async def test_nothing_outside_dist_is_served(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build(dist)
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    app = app_with(dist)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        response = await get(app, path)
        assert "no" != response.text, path


def test_the_nonce_joins_style_src() -> None:
    policy = "default-src 'self'; style-src 'self'; img-src 'self'"
    assert policy_with_nonce(policy, "n1") == (
        "default-src 'self'; style-src 'self' 'nonce-n1'; img-src 'self'"
    )
    assert policy_with_nonce("default-src 'self'", "n1").endswith("style-src 'self' 'nonce-n1'")
