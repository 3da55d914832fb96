"""`bench.drive.faults` stops a PostgreSQL cluster only if it is the server under test, by identity.

Nothing here stops a server: the guard is asked about the tests' own cluster (which it must
refuse whatever the URL looks like) and about identities made up to differ in one respect.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from bench.drive.faults import parse_args, preflight
from bench.drive.loadmix import deployment_of
from bench.topology.pgserver import (
    Cluster,
    Refusal,
    ServerIdentity,
    check_stop_target,
    debian_cluster,
    server_identity,
    tests_server_identities,
)

from tests.conftest import PG_ADMIN_DSN

SERVER = ServerIdentity(
    system_identifier=7000000000000000001,
    port=5433,
    cluster_name="15/scale",
    postmaster_start=1_700_000_000.0,
    backend_pid=4242,
    data_directory="/var/lib/postgresql/15/scale",
)
CLUSTER = Cluster(
    version="15",
    name="scale",
    port=5433,
    data_directory="/var/lib/postgresql/15/scale",
    running=True,
    system_identifier=7000000000000000001,
)


def refusal(server: ServerIdentity, cluster: Cluster, protected: list[ServerIdentity]) -> str:
    with pytest.raises(Refusal) as caught:
        check_stop_target(server, cluster, protected)
    return str(caught.value)


def test_the_cluster_behind_the_url_may_be_stopped() -> None:
    check_stop_target(SERVER, CLUSTER, [])
    # The app role may not read data_directory: identifier and port still tie URL and cluster.
    check_stop_target(dataclasses.replace(SERVER, data_directory=None), CLUSTER, [])


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"system_identifier": 7000000000000000002}, "system identifier"),
        ({"port": 5434}, "port"),
        ({"data_directory": "/srv/other"}, "data directory"),
    ],
)
def test_a_cluster_that_is_not_the_urls_server_is_refused(change: dict, named: str) -> None:
    message = refusal(dataclasses.replace(SERVER, **change), CLUSTER, [])
    assert f"({named} differ)" in message
    assert "would not stop the server under test" in message


def test_the_tests_server_and_unverifiable_clusters_are_refused() -> None:
    assert "the tests' server" in refusal(SERVER, CLUSTER, [SERVER])
    unreadable = dataclasses.replace(CLUSTER, system_identifier=None)
    assert "cannot read the system identifier" in refusal(SERVER, unreadable, [])
    assert "is not running" in refusal(SERVER, dataclasses.replace(CLUSTER, running=False), [])
    for main in (
        dataclasses.replace(CLUSTER, name="main"),
        dataclasses.replace(CLUSTER, port=5432),
    ):
        assert "the 5432 `main` cluster is the one the tests use" in refusal(SERVER, main, [])


async def tests_cluster() -> tuple[str, str]:
    """The tests' cluster as pg_ctlcluster names it, from its own cluster_name (Debian's)."""
    identity = await server_identity(PG_ADMIN_DSN)
    version, name = identity.cluster_name.split("/")
    return version, name


async def test_the_tests_own_cluster_is_refused_even_when_the_url_is_its_own() -> None:
    version, name = await tests_cluster()
    cluster = debian_cluster(version, name)
    server = await server_identity(PG_ADMIN_DSN)
    assert (cluster.system_identifier, cluster.port) == (server.system_identifier, server.port)
    message = refusal(server, cluster, await tests_server_identities())
    assert "the one the tests use" in message


def test_an_unknown_cluster_is_refused() -> None:
    with pytest.raises(Refusal, match="there is no PostgreSQL cluster 15/no_such_cluster"):
        debian_cluster("15", "no_such_cluster")


async def test_a_url_without_a_port_does_not_slip_past() -> None:
    version, name = await tests_cluster()
    # 127.0.0.1 without a port is the tests' 5432 server, whichever cluster is named.
    for cluster in ([version, name], [version, "no_such_cluster"]):
        args = parse_args(
            ["postgres", "--url", "postgresql://postgres@127.0.0.1/postgres", "--cluster", *cluster]
        )
        with pytest.raises(Refusal):
            await preflight(args, deployment_of(args))
    args = parse_args(
        ["all", "--url", "postgresql://postgres@127.0.0.1/postgres", "--cluster", version, name]
    )
    with pytest.raises(Refusal, match="the one the tests use"):
        await preflight(args, deployment_of(args))


async def test_faults_that_stop_no_server_run_on_any_server() -> None:
    # The worker and SMTP faults stop only processes of their own, so the 5432 URL is fine.
    for fault in ("worker", "smtp"):
        args = parse_args([fault, "--url", "postgresql://postgres@127.0.0.1:5432/postgres"])
        await asyncio.wait_for(preflight(args, deployment_of(args)), 30)
