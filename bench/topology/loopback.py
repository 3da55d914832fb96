"""The docker-compose topology without Docker: API processes, workers and a mail sink on loopback.

`Topology` starts `member360 serve` processes on consecutive loopback ports, `member360 worker`
processes (M360_JOB_QUEUE=procrastinate, M360_EXTERNAL_WORKERS=true, as docker-compose.yml sets
them), and `bench.topology.mailsink`, all sharing one export directory, and stops every one of
them on exit: each child runs in its own session (process group), gets SIGTERM, then SIGKILL
after a grace period, so nothing outlives the script, also on Ctrl-C.

The processes connect as a `Deployment` says, as production does (README, "Scaling out"): the
API and workers as a plain role that row-level security binds (M360_DATABASE_URL,
M360_APP_DB_ROLE), migrations as the tables' owner (M360_MIGRATION_DATABASE_URL). The bench's
own reads (which organization has members, export jobs by status) use the owner's URL with
every organization in view (`bench.common.connect_all_orgs`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench.common import ROOT, asyncpg_dsn
from bench.topology.pgserver import PostgresCpu

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5433/m360_bench"
DEFAULT_APP_ROLE = "member360_app"  # docker-compose's (deploy/postgres/10-app-role.sh)


class DeploymentError(ValueError):
    """The database settings given do not describe a deployment the tools can run."""


def url_user(url: str) -> str | None:
    return make_url(url).username


@dataclass(frozen=True)
class Deployment:
    """How the processes connect. Without `app_role` the app uses the owner's URL (RLS then
    binds it only if the owner is no superuser): the way to measure what the policies cost."""

    owner_url: str  # the tables' owner: migrates, seeds, and the bench's own reads
    app_url: str  # what `member360 serve` and `member360 worker` log in with
    app_role: str | None = None

    def env(self) -> dict[str, str]:
        if self.app_role is None:
            # Empty means "the same as M360_DATABASE_URL" (config.py): nothing inherited applies.
            return {
                "M360_DATABASE_URL": self.app_url,
                "M360_MIGRATION_DATABASE_URL": "",
                "M360_APP_DB_ROLE": "",
            }
        return {
            "M360_DATABASE_URL": self.app_url,
            "M360_MIGRATION_DATABASE_URL": self.owner_url,
            "M360_APP_DB_ROLE": self.app_role,
        }

    def describe(self) -> str:
        def show(url: str) -> str:
            return make_url(url).render_as_string(hide_password=True)

        if self.app_role is None:
            owner = url_user(self.owner_url)
            return f"{show(self.app_url)} (the app connects as the owner {owner!r})"
        return (
            f"app {show(self.app_url)} as {self.app_role!r} under row-level security; "
            f"migrations and the bench's reads as {url_user(self.owner_url)!r}"
        )


def resolve_deployment(
    *,
    url: str | None = None,
    owner_url: str | None = None,
    app_role: str | None = None,
    environ: dict[str, str] | None = None,
    default_role: str | None = DEFAULT_APP_ROLE,
) -> Deployment:
    """The deployment given by options, else by the M360_* settings a deployment sets.

    `app_role` "" asks for no app role (the app connects as the owner). `url` may be the app's
    URL (it logs in as the app role, as M360_DATABASE_URL does in production) or, with the
    owner's URL not given, the owner's: the app's is then the same with the role's name and no
    password (trust or peer authentication, as on a benchmark cluster; give the app's URL to
    use a password).
    """
    env = os.environ if environ is None else environ
    role = app_role if app_role is not None else env.get("M360_APP_DB_ROLE") or default_role
    role = role or None
    if role is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", role):
        raise DeploymentError(f"app role {role!r}: a plain role name (letters, digits, _)")
    url = url or env.get("M360_DATABASE_URL") or None
    owner_url = owner_url or env.get("M360_MIGRATION_DATABASE_URL") or None
    if role is None:
        owner = owner_url or url or DEFAULT_URL
        return Deployment(owner_url=owner, app_url=url or owner)
    if owner_url is None:
        if url is not None and url_user(url) == role:
            raise DeploymentError(
                f"the database URL logs in as the app role {role!r}, which may not migrate or "
                "see other organizations: give the owner's URL too (M360_MIGRATION_DATABASE_URL "
                "or --owner-url)"
            )
        owner_url = url or DEFAULT_URL
        url = None
    if url is None or url == owner_url:
        app = make_url(owner_url)._replace(username=role, password=None)
        url = app.render_as_string(hide_password=False)
    elif url_user(url) != role:
        raise DeploymentError(
            f"the app's database URL logs in as {url_user(url)!r} but the app role is {role!r}: "
            "migrations would grant the tables to a role the app does not use"
        )
    return Deployment(owner_url=owner_url, app_url=url, app_role=role)


async def ensure_app_role(deployment: Deployment, echo: Any = print) -> None:
    """Creates the app's login role on a fresh cluster, as docker-compose's init script does.

    `member360 migrate` then grants it the tables. An existing role must be a plain one: a
    superuser or BYPASSRLS role would not be held by row-level security.
    """
    if deployment.app_role is None:
        return
    import asyncpg

    role = deployment.app_role
    conn = await asyncpg.connect(asyncpg_dsn(deployment.owner_url), timeout=10)
    try:
        found = await conn.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1", role
        )
        if found is None:
            echo(f"creating the app's login role {role!r} (no superuser, no BYPASSRLS)")
            await conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
            return
    finally:
        await conn.close()
    if found["rolsuper"] or found["rolbypassrls"] or not found["rolcanlogin"]:
        raise DeploymentError(
            f"role {role!r} must be a LOGIN role without SUPERUSER or BYPASSRLS, or row-level "
            "security does not apply to the app"
        )


def member360_cmd() -> list[str]:
    """The CLI of the interpreter running this script, with this checkout's backend first."""
    return [sys.executable, "-c", "from member360.cli import main; main()"]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "backend"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra or {})
    return env


def rss_kb(pid: int) -> int | None:
    """Resident set size from /proc (None once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children ourselves
        )
        handle.close()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def stop(self, grace: float = 10.0) -> None:
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(5)
        # The group too: anything the child forked must not outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


@dataclass
class Topology:
    deployment: Deployment | str = DEFAULT_URL  # a URL: the app connects as that URL's user
    apis: int = 2
    workers: int = 2
    base_port: int = 8101
    smtp_port: int = 2526
    workdir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    keep_workdir: bool = False
    procs: dict[str, Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.deployment, str):
            self.deployment = Deployment(owner_url=self.deployment, app_url=self.deployment)
        self.postgres = PostgresCpu()
        self._own_workdir = self.workdir is None
        self.workdir = Path(self.workdir or tempfile.mkdtemp(prefix="m360-scale-"))
        self.export_dir = self.workdir / "exports"
        self.mail_dir = self.workdir / "mail"
        self.log_dir = self.workdir / "logs"
        for d in (self.export_dir, self.mail_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.env = child_env(
            {
                **self.deployment.env(),
                "M360_JOB_QUEUE": "procrastinate",
                "M360_EXTERNAL_WORKERS": "true",
                "M360_ENV": "production",
                "M360_SECRET_KEY": "scale-demo-secret-not-for-production-0123456789",
                "M360_SMTP_HOST": "127.0.0.1",
                "M360_SMTP_PORT": str(self.smtp_port),
                "M360_EXPORT_DIR": str(self.export_dir),
                "M360_PUBLIC_URL": f"http://127.0.0.1:{self.base_port}",
                # Capacity runs measure the service, not the limiter (0 disables each limit).
                "M360_RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
                "M360_RATE_LIMIT_ORG_REQUESTS_PER_MINUTE": "0",
                "M360_RATE_LIMIT_EXPORTS_PER_HOUR": "0",
                "M360_RATE_LIMIT_ORG_EXPORTS_PER_HOUR": "0",
                **self.extra_env,
            }
        )

    @property
    def database_url(self) -> str:
        """The URL of the bench's own reads: the owner's (see `connect_all_orgs`)."""
        assert isinstance(self.deployment, Deployment)
        return self.deployment.owner_url

    # -- processes -------------------------------------------------------------------------

    @property
    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.apis)]

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def _proc(self, name: str, cmd: list[str]) -> Proc:
        proc = Proc(name, cmd, self.env, self.log_dir / f"{name}.log")
        self.procs[name] = proc
        return proc

    def migrate(self) -> None:
        subprocess.run(
            [*member360_cmd(), "migrate"], env=self.env, cwd=ROOT, check=True, timeout=1800
        )

    def start_sink(self) -> None:
        self._proc(
            "mailsink",
            [
                sys.executable,
                "-m",
                "bench.topology.mailsink",
                "--port",
                str(self.smtp_port),
                "--dir",
                str(self.mail_dir),
            ],
        ).start()
        wait_port(self.smtp_port)

    def stop_sink(self) -> None:
        if "mailsink" in self.procs:
            self.procs["mailsink"].stop()

    def start_api(self, index: int) -> Proc:
        port = self.ports[index]
        proc = self._proc(
            f"api{index + 1}",
            [*member360_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        )
        proc.start()
        return proc

    def start_worker(self, index: int) -> Proc:
        proc = self._proc(f"worker{index + 1}", [*member360_cmd(), "worker"])
        proc.start()
        return proc

    def start(self, *, migrate: bool = True, timeout: float = 120.0) -> None:
        if migrate:
            self.migrate()
        self.start_sink()
        for i in range(self.apis):
            self.start_api(i)
        for i in range(self.workers):
            self.start_worker(i)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for url in self.api_urls:
            while True:
                for proc in self.procs.values():
                    if not proc.alive() and proc.popen is not None and proc.popen.returncode:
                        raise RuntimeError(f"{proc.name} exited: see {proc.log}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url}/readyz not ready after {timeout:.0f} s")
                time.sleep(0.25)

    async def discover_postgres(self) -> str | None:
        """Finds the database server's processes for `cpu()`; None, or why they are not measured."""
        await self.postgres.discover(self.database_url)
        return self.postgres.reason

    def cpu(self) -> dict[str, float | None]:
        """CPU seconds used so far: API processes, workers, the PostgreSQL server (None: not
        measured, see `discover_postgres`), the driver."""
        out: dict[str, float | None] = {"api": 0.0, "worker": 0.0}
        for name, proc in self.procs.items():
            kind = next((k for k in ("api", "worker") if name.startswith(k)), "")
            if kind and proc.popen is not None:
                out[kind] = (out[kind] or 0.0) + cpu_seconds(proc.pid)
        out["postgres"] = self.postgres.seconds()
        times = os.times()
        out["driver"] = times.user + times.system
        return out

    def rss(self) -> dict[str, int | None]:
        return {name: rss_kb(p.pid) for name, p in self.procs.items() if p.alive()}

    def stop(self) -> None:
        # APIs first (no new jobs), then workers (they finish or abandon under a lease), then mail.
        order = sorted(self.procs.values(), key=lambda p: (p.name == "mailsink", p.name))
        for proc in order:
            proc.stop()
        if self._own_workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            shutil.rmtree(self.export_dir, ignore_errors=True)  # workbooks are big; logs stay

    def mails(self) -> list[Path]:
        return sorted(self.mail_dir.glob("*.eml"))

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def install_signal_exit() -> None:
    """SIGTERM behaves like Ctrl-C, so `finally:` blocks stop the children either way.

    SIGINT is set explicitly: a shell starting us in the background leaves it ignored.
    """

    def raise_interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGINT, raise_interrupt)
