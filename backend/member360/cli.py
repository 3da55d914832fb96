"""The `member360` command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from member360.config import get_settings
from member360.db import Database
from member360.logs import configure_logging

log = logging.getLogger("member360")


def _db() -> Database:
    return Database(get_settings().database_url)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _migrated() -> Database:
    """Migrates through the owner's URL, then hands back the app's own connection."""
    from member360.migrate import migrate_for

    await migrate_for(get_settings())
    return _db()


async def _warn_if_rls_bypassed(db: Database) -> None:
    from member360.migrate import rls_bypass

    reason = await rls_bypass(db)
    if reason:
        click.echo(f"warning: {reason}", err=True)


class _Main(click.Group):
    """Refused settings end a command with their messages, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            # Only the messages: the refused values may be secrets.
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise click.ClickException(f"refusing to start: {reasons}") from None


@click.group(cls=_Main)
def main() -> None:
    """Member360: a loyalty member's whole history through GraphQL."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Migrate the database, then serve /graphql (and run expiry unless workers do)."""
    import uvicorn

    async def prepare() -> None:
        db = await _migrated()
        try:
            await _warn_if_rls_bypassed(db)
        finally:
            await db.dispose()

    settings = get_settings()
    # uvicorn applies the same logging config in each of its worker processes.
    config = configure_logging(settings)
    _run(prepare())
    log.info(f"Member360 on http://{host}:{port}/  (GraphQL: http://{host}:{port}/graphql)")
    if settings.trusted_proxies:
        log.info("client addresses: X-Forwarded-For from %s", settings.trusted_proxies)
    else:
        log.info("client addresses: the connection's peer (no M360_TRUSTED_PROXIES)")
    uvicorn.run(
        "member360.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=config,
        log_level=settings.log_level.lower(),
        access_log=False,  # RequestLogMiddleware logs each request, its token path redacted
        # The app resolves X-Forwarded-For itself from M360_TRUSTED_PROXIES; uvicorn's copy
        # would also trust it from 127.0.0.1 (or $FORWARDED_ALLOW_IPS) whatever that says.
        proxy_headers=False,
    )


@main.command()
def migrate() -> None:
    """Bring the database to the newest schema (deployments run this once before the API)."""

    async def go() -> None:
        db = await _migrated()
        await db.dispose()

    _run(go())
    click.echo("database is up to date")


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Do not run: exit 0 if this host's worker renewed its heartbeat recently, else 1 "
    "(the container health check).",
)
@click.option(
    "--max-age",
    type=float,
    default=None,
    help="With --check: seconds a heartbeat stays fresh [default: 3 heartbeat intervals].",
)
def worker(check: bool, max_age: float | None) -> None:
    """Run export jobs and the expiry sweep outside the API processes (the scaled deployment)."""
    from member360.heartbeat import STALE_AFTER_BEATS, Heartbeat
    from member360.heartbeat import check as check_heartbeat

    settings = get_settings()
    if check:
        limit = (
            max_age
            if max_age is not None
            else STALE_AFTER_BEATS * settings.worker_heartbeat_seconds
        )
        problem = check_heartbeat(settings.worker_heartbeat_file, limit)
        if problem is not None:
            click.echo(f"unhealthy: {problem}", err=True)
            sys.exit(1)
        click.echo("healthy")
        return
    configure_logging(settings)

    async def go() -> None:
        db = await _migrated()
        heartbeat = Heartbeat(db, settings.worker_heartbeat_file, settings.worker_heartbeat_seconds)
        beating = asyncio.create_task(heartbeat.run_forever())
        try:
            await _warn_if_rls_bypassed(db)
            if settings.job_queue == "procrastinate":
                from member360.exports.queue import run_worker

                log.info("worker: running export jobs and expiry from the procrastinate queue")
                await run_worker(db, settings)
            else:
                from member360.exports.jobs import JobRunner
                from member360.ingest.expiry import expiry_loop

                log.info("worker: polling export jobs; expiring due lots every minute")
                await asyncio.gather(
                    JobRunner(db, settings).run_forever(),
                    expiry_loop(db, settings.expiry_interval_seconds),
                )
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            await db.dispose()

    _run(go())


@main.group()
def org() -> None:
    """Organizations (tenants)."""


@org.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--time-zone", required=True, help="IANA name, e.g. Asia/Kolkata")
@click.option("--hierarchy", is_flag=True, help="members belong to groups (Group Points)")
@click.option("--surveys", is_flag=True, help="the program runs surveys")
@click.option("--extended-attributes", default="", help="comma-separated, e.g. STORE_ID,STORE_NAME")
def org_create(
    slug: str, name: str, time_zone: str, hierarchy: bool, surveys: bool, extended_attributes: str
) -> None:
    """Create an organization."""
    from member360.orgs.service import OrgError, create_org

    async def go() -> None:
        db = await _migrated()
        try:
            info = await create_org(
                db,
                slug,
                name=name,
                time_zone=time_zone,
                hierarchy=hierarchy,
                surveys=surveys,
                extended_attributes=extended_attributes.split(","),
            )
            click.echo(f"created organization {info.slug} ({info.name}, {info.time_zone})")
        finally:
            await db.dispose()

    try:
        _run(go())
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None


@main.group("api-key")
def api_key() -> None:
    """API keys for partner apps."""


@api_key.command("create")
@click.option("--org", "slug", required=True)
@click.option("--scopes", required=True, help="comma-separated: customers:read,pii:read,…")
@click.option("--name", default=None, help="what the key is for")
def api_key_create(slug: str, scopes: str, name: str | None) -> None:
    """Create a key; it is printed once, as the last line."""
    from member360.auth.keys import AuthError, create_api_key, parse_scopes
    from member360.orgs.service import OrgError, get_org

    async def go() -> str:
        db = await _migrated()
        try:
            info = await get_org(db, slug=slug)
            return await create_api_key(db, info, parse_scopes(scopes), name)
        finally:
            await db.dispose()

    try:
        key = _run(go())
    except (AuthError, OrgError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"API key for {slug} (scopes {scopes}); store it now, it is not shown again:")
    click.echo(key)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@api_key.command("list")
@click.option("--org", "slug", required=True)
def api_key_list(slug: str) -> None:
    """List the organization's keys: id, prefix, name, scopes, created, last used, revoked."""
    from member360.auth.keys import list_api_keys
    from member360.orgs.service import OrgError, get_org

    async def go() -> Any:
        db = await _migrated()
        try:
            return await list_api_keys(db, await get_org(db, slug=slug))
        finally:
            await db.dispose()

    try:
        keys = _run(go())
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    if not keys:
        click.echo(f"{slug} has no API keys")
        return
    click.echo("id\tprefix\tname\tscopes\tcreated\tlast used\trevoked")
    for k in keys:
        click.echo(
            "\t".join(
                (
                    str(k.id),
                    k.prefix,
                    k.name or "-",
                    ",".join(k.scopes),
                    _when(k.created_at),
                    _when(k.last_used_at),
                    _when(k.revoked_at),
                )
            )
        )


@api_key.command("revoke")
@click.option("--org", "slug", required=True)
@click.argument("key")
def api_key_revoke(slug: str, key: str) -> None:
    """Revoke a key, named by its id or prefix (as `api-key list` shows) or the whole key.

    Running API processes stop accepting it within their 10-second key cache.
    """
    from member360.auth.keys import AuthError, revoke_api_key
    from member360.orgs.service import OrgError, get_org

    async def go() -> Any:
        db = await _migrated()
        try:
            return await revoke_api_key(db, await get_org(db, slug=slug), key)
        finally:
            await db.dispose()

    try:
        info, revoked = _run(go())
    except (AuthError, OrgError) as exc:
        raise click.ClickException(str(exc)) from None
    label = (
        f"key {info.id} ({info.prefix}…, {info.name or 'no name'}, scopes {','.join(info.scopes)})"
    )
    if revoked:
        click.echo(f"revoked {label} of {slug}; it stops working within 10 seconds")
    else:
        click.echo(f"{label} of {slug} was already revoked on {_when(info.revoked_at)}")


@main.group()
def user() -> None:
    """Web-app users (ADMIN: everything; AGENT: member pages, coupon resends, tab downloads)."""


@user.command("create")
@click.option("--org", "slug", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["ADMIN", "AGENT"]))
def user_create(slug: str, email: str, role: str) -> None:
    """Create a user; the password comes from M360_PASSWORD or a prompt (never an argument,
    which would land in shell history and the process list)."""
    import os

    from member360.auth.users import UserError, create_user
    from member360.orgs.service import OrgError, get_org

    password = os.environ.get("M360_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )

    async def go() -> None:
        db = await _migrated()
        try:
            info = await get_org(db, slug=slug)
            await create_user(db, info, email=email, role=role, password=password)
        finally:
            await db.dispose()

    try:
        _run(go())
    except (UserError, OrgError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {email.strip().lower()} in {slug}")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "slug", required=True)
def import_(file: Path, slug: str) -> None:
    """Apply a JSONL file of events in order; stop at the first invalid line.

    The format, its limits and what a re-run does: docs/events.md.
    """
    from member360.ingest.importer import Importer
    from member360.ingest.jsonl import read_events
    from member360.orgs.service import OrgError, get_org

    async def go() -> Any:
        db = await _migrated()
        try:
            info = await get_org(db, slug=slug)
            with file.open("rb") as handle:
                return await Importer(db, info, batch_size=get_settings().import_batch_size).run(
                    read_events(handle)
                )
        finally:
            await db.dispose()

    try:
        outcome = _run(go())
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror or exc}") from None
    click.echo(f"applied {outcome.applied} events, skipped {outcome.duplicates} already applied")
    if outcome.expired_points:
        click.echo(f"expired {outcome.expired_points} points that were due")
    if outcome.error is not None:
        click.echo(f"{file}:{outcome.error.position}: {outcome.error}", err=True)
        click.echo(
            "fix that line and run the same file again: applied events are skipped", err=True
        )
        sys.exit(1)


@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (schema.graphql must equal it)."""
    from member360.graphql.schema import schema

    click.echo(schema.as_str())


@main.command()
@click.option("--members", default=3000, show_default=True)
@click.option("--slug", default="demo", show_default=True)
def demo(members: int, slug: str) -> None:
    """Create a realistic demo organization (once) and print an API key for it."""
    from member360.demo import ensure_demo

    key = _run(ensure_demo(get_settings(), slug=slug, members=members, echo=click.echo))
    click.echo(key)


if __name__ == "__main__":
    main()
