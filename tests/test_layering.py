"""The package layering, read from the import statements of backend/member360 (ast only).

- A domain package (customers, ledger, history, orgs, auth, audit, reports) imports neither
  the import pipeline (member360.ingest), nor the exports (member360.exports), nor the
  compiled reads built on the domains (member360.reads), nor the inside
  of the API (member360.graphql): of graphql/ it uses only the kernel's surface for building
  types: connections (relay), history pages (paging), personal-data marks (access), coded
  errors (errors), the resolvers' Info (info) and scalars beyond GraphQL's own (scalars).
  Domains refuse input with
  member360.errors.InputError.
- The GraphQL kernel imports no domain package, nor ingest or exports: the report declares
  its own page cap on its field, the limits do not know it.
- orgs, which every other domain builds on, imports no other domain package.
- The neutral modules (errors, limits, mail, sqlfunctions) import nothing of member360 but its settings.

Every import counts, in a function or under TYPE_CHECKING as well as at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import member360

PACKAGE = Path(member360.__file__).parent
DOMAINS = ("customers", "ledger", "history", "orgs", "auth", "audit", "reports")
PIPELINES = ("member360.ingest", "member360.exports", "member360.reads")
# What a domain may use of graphql/.
KERNEL_SURFACE = frozenset(
    f"member360.graphql.{name}"
    for name in ("relay", "paging", "access", "errors", "info", "scalars")
)
KERNEL = KERNEL_SURFACE | {"member360.graphql.limits"}
NEUTRAL = ("member360.errors", "member360.limits", "member360.mail", "member360.sqlfunctions")

# Imports that break a rule and still have to move in a later slice: (importer, imported) ->
# why. Empty: keep it so, or say here what moves next and when.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("member360", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _imported(name: str, path: Path) -> Iterator[str]:
    """The member360 modules one module imports (`from pkg import module` is that module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "member360")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "member360":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


EDGES = frozenset(
    (name, target) for name, path in MODULES.items() for target in _imported(name, path)
)


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


DOMAIN_PACKAGES = frozenset(f"member360.{d}" for d in DOMAINS)


def _breaks_a_rule(importer: str, imported: str) -> str | None:
    source, target = _package(importer), _package(imported)
    if source in DOMAIN_PACKAGES:
        if target in PIPELINES or (
            target == "member360.graphql" and imported not in KERNEL_SURFACE
        ):
            return "a domain package imports ingest, exports or graphql internals"
        if source == "member360.orgs" and target in DOMAIN_PACKAGES - {source}:
            return "orgs imports another domain package"
    if importer in KERNEL and (target in DOMAIN_PACKAGES or target in PIPELINES):
        return "the GraphQL kernel imports a domain package, ingest or exports"
    if importer in NEUTRAL and imported != "member360.config":
        return "a neutral module imports member360"
    return None


def test_the_graph_is_read() -> None:
    # Known arrows of each import form, so that a parser reading nothing cannot pass.
    assert ("member360.ingest.jsonl", "member360.ingest.limits") in EDGES  # from pkg import mod
    assert ("member360.graphql.schema", "member360.customers.queries") in EDGES
    assert ("member360.db", "member360.models") in EDGES  # inside a function
    assert ("member360.graphql.info", "member360.graphql.context") in EDGES  # TYPE_CHECKING
    assert len(MODULES) > 50 and len(EDGES) > 200


def test_the_layering_rules_hold() -> None:
    broken = sorted(
        f"{importer} -> {imported}: {rule}"
        for importer, imported in EDGES
        if (rule := _breaks_a_rule(importer, imported)) and (importer, imported) not in ALLOWED
    )
    assert broken == []


def test_the_rules_see_an_upward_import() -> None:
    assert _breaks_a_rule("member360.ledger.redemptions.tab", "member360.ingest.unit")
    assert _breaks_a_rule("member360.history.coupons.tab", "member360.graphql.context")
    assert _breaks_a_rule("member360.graphql.limits", "member360.reports.interactions")
    assert _breaks_a_rule("member360.orgs.types", "member360.reports.interactions")
    assert _breaks_a_rule("member360.errors", "member360.graphql.errors")
    assert not _breaks_a_rule("member360.customers.types", "member360.graphql.relay")
    assert not _breaks_a_rule("member360.exports.tabs", "member360.history.registry")


def test_the_allow_list_names_only_imports_that_still_exist() -> None:
    stale = [edge for edge in ALLOWED if edge not in EDGES or not _breaks_a_rule(*edge)]
    assert stale == [], "remove these from ALLOWED: they no longer break a rule"
