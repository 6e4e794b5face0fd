"""The layering rule: `cli → services → domain`, `services → store`, checked on every import.

`cli/` and `reports/` never import `crmcli.store` (not even under TYPE_CHECKING), `store/` and
`reports/` never import what stands above them (`services`, `cli`; `reports` for `store`);
`domain/` is pure: the standard library, `crmcli.domain`, `crmcli.errors`, `crmcli.clock` and
`crmcli.i18n` (stdlib-only message lookup), nothing else.
Absolute and relative imports, at module level or inside functions, all count.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "crmcli"
DOMAIN_MAY_IMPORT = ("crmcli.domain", "crmcli.errors", "crmcli.clock", "crmcli.i18n")
UPPER = ("crmcli.services", "crmcli.cli")


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def imported(source: str, package: str) -> Iterator[tuple[int, str]]:
    """(line, module) of each import in `source`, a module of `package`; `from a import b`
    gives `a.b`, so `from crmcli import store` is seen as `crmcli.store`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `.` is `package` itself, `..` its parent …
                anchor = package.split(".")[: package.count(".") + 2 - node.level]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def broken(layer: str, name: str) -> str | None:
    """Why importing `name` from `layer` breaks the rule, or None."""
    if layer in {"cli", "reports"} and _within(name, "crmcli.store"):
        return f"{layer}/ must not import crmcli.store (go through crmcli.services)"
    if (layer in {"store", "reports"} and _within(name, *UPPER)) or (
        layer == "store" and _within(name, "crmcli.reports")
    ):
        return f"{layer}/ is below services/ and cli/ (and store/ below reports/)"
    top = name.partition(".")[0]
    stdlib = top != "crmcli" and top in sys.stdlib_module_names | {"__future__"}
    if layer == "domain" and not stdlib and not _within(name, *DOMAIN_MAY_IMPORT):
        return "domain/ imports only crmcli.domain, crmcli.errors, crmcli.clock and crmcli.i18n"
    return None


def test_no_import_goes_against_the_arrows() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        package = ".".join(["crmcli", *relative.parent.parts])
        for line, name in sorted(imported(path.read_text(encoding="utf-8"), package)):
            why = broken(relative.parts[0], name)
            if why:
                found.append(f"src/crmcli/{relative.as_posix()}:{line}: {name}: {why}")
    assert not found, "imports against the layering rule:\n" + "\n".join(found)


def test_relative_and_aliased_imports_are_seen() -> None:
    source = "from ..store import db\nfrom . import render\nimport crmcli.store.db as d\n"
    assert list(imported(source, "crmcli.cli")) == [
        (1, "crmcli.store.db"),
        (2, "crmcli.cli.render"),
        (3, "crmcli.store.db"),
    ]
    assert list(imported("from .. import store\n", "crmcli.cli")) == [(1, "crmcli.store")]
    assert broken("domain", "sqlalchemy") and broken("domain", "crmcli.services.common")
    assert not broken("domain", "datetime") and not broken("services", "crmcli.store.db")
    assert broken("store", "crmcli.reports") and broken("reports", "crmcli.services.common")
