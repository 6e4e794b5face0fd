"""The message catalogs: extract every user-facing string, keep the pt_BR `.po`, compile `.mo`.

    python scripts/catalogs.py update [--add more.po ...]   # re-extract, merge, compile
    python scripts/catalogs.py check                        # exit 1 on anything missing
    python scripts/catalogs.py missing [--where TEXT]       # untranslated entries, as .po

Messages come from two places: the calls `_("…")`, `N_("…")` and `ngettext("…", "…", n)` in
`src/crmcli` (read with `ast`, never imported), and the help of every command and option
(read from the command tree, exactly as Click shows it). Needs Babel (a dev dependency).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "crmcli"
LOCALE = SOURCE / "locale"
PO = LOCALE / "pt_BR" / "LC_MESSAGES" / "crmcli.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"(?<!\{)\{(\w*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


@dataclass
class Message:
    """One message to translate: its English text (and plural) and where it is used."""

    msgid: str
    plural: str | None = None
    locations: list[tuple[str, int]] = field(default_factory=list)


def source_messages() -> Iterator[tuple[str, str | None, str, int]]:
    """(msgid, plural, file, line) of every marked string in the package."""
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name, args = node.func.id, node.args
            if name in ("_", "N_") and args and _text(args[0]) is not None:
                yield _text(args[0]) or "", None, where, node.lineno
            elif name == "ngettext" and len(args) >= 2:
                singular, plural = _text(args[0]), _text(args[1])
                if singular is not None and plural is not None:
                    yield singular, plural, where, node.lineno


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def help_messages() -> Iterator[tuple[str, str]]:
    """(text, command path) of every help text of every command and option."""
    sys.path.insert(0, str(ROOT / "src"))
    import typer

    from crmcli.cli import app as root

    def cleaned(text: str | None) -> str | None:
        return inspect.cleandoc(text).partition("\f")[0] if text else None

    def walk(command: object, path: str) -> Iterator[tuple[str, str]]:
        for text in (getattr(command, "help", None), getattr(command, "short_help", None)):
            if cleaned(text):
                yield cleaned(text) or "", path
        for param in getattr(command, "params", []):
            if cleaned(getattr(param, "help", None)):
                yield cleaned(param.help) or "", f"{path} {param.name}"
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, f"{path} {name}")

    yield from walk(typer.main.get_group(root.app), "crm")
    for name, (_module, _attribute, short) in root.COMMANDS.items():
        yield short, f"crm {name}"
        yield from walk(root.load_command(name), f"crm {name}")


def extract() -> dict[str, Message]:
    """Every message, in the order first found (source files, then help)."""
    found: dict[str, Message] = {}
    for msgid, plural, where, line in source_messages():
        message = found.setdefault(msgid, Message(msgid, plural))
        message.plural = message.plural or plural
        message.locations.append((where, line))
    for text, path in help_messages():
        found.setdefault(text, Message(text)).locations.append((f"help: {path}", 0))
    return found


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a format string."""
    return set(PLACEHOLDER.findall(text))


def read(path: Path) -> object:
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        return read_po(file, locale="pt_BR")


def translations(*paths: Path) -> dict[str, str | tuple[str, ...]]:
    """msgid → msgstr (a tuple for plurals) of the non-empty entries of each .po, first wins."""
    found: dict[str, str | tuple[str, ...]] = {}
    for path in paths:
        if not path.exists():
            continue
        for entry in read(path):  # type: ignore[attr-defined]
            key = entry.id[0] if isinstance(entry.id, tuple) else entry.id
            value = tuple(entry.string) if isinstance(entry.string, (list, tuple)) else entry.string
            if key and (all(value) if isinstance(value, tuple) else value) and key not in found:
                found[key] = value
    return found


def build(messages: dict[str, Message], known: dict[str, str | tuple[str, ...]]) -> object:
    from babel.messages.catalog import Catalog

    catalog = Catalog(
        locale="pt_BR",
        domain="crmcli",
        project="crmcli",
        charset="utf-8",
        header_comment="# Brazilian Portuguese messages of crmcli (scripts/catalogs.py).",
    )
    catalog.revision_date = catalog.creation_date  # stable files: no dates that change
    # Two forms, as gettext has always had them for Brazilian Portuguese (CLDR's third,
    # "many" for exact millions, would need a third translation of every plural)
    catalog._num_plurals, catalog._plural_expr = 2, "(n > 1)"
    for message in messages.values():
        value = known.get(message.msgid, ("", "") if message.plural else "")
        if message.plural and isinstance(value, str):
            value = (value, value)
        catalog.add(
            (message.msgid, message.plural) if message.plural else message.msgid,
            value,
            locations=message.locations[:3],
        )
    return catalog


def write(catalog: object) -> None:
    from babel.messages.pofile import write_po

    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as file:
        write_po(file, catalog, width=100, omit_header=False, include_previous=False)
    MO.write_bytes(compiled(catalog))


def compiled(catalog: object) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # type: ignore[arg-type]
    return buffer.getvalue()


def problems(add: tuple[Path, ...] = (), where_has: str = "") -> list[str]:
    """What is wrong with the catalog (with the translations of the `.po` files `add`
    first): untranslated or unknown messages, placeholders that differ, a `.mo` not compiled
    from the `.po`. With `where_has`, only messages used in a place whose name contains it."""
    messages = extract()
    catalog = read(PO)
    known = translations(*add, PO)
    found = []
    for msgid, message in messages.items():
        places = [f"{f}:{n}" for f, n in message.locations]
        if where_has and not any(where_has in p for p in places):
            continue
        where = places[0]
        value = known.get(msgid)
        if not value:
            found.append(f"{where}: no pt_BR translation: {msgid!r}")
            continue
        forms = list(value) if isinstance(value, tuple) else [value]
        wanted = [placeholders(msgid)] + ([placeholders(message.plural)] if message.plural else [])
        for index, form in enumerate(forms):
            expected = wanted[min(index, len(wanted) - 1)]
            if message.plural:  # a singular form may spell "1" out instead of {count}
                if not placeholders(form) <= wanted[-1] | wanted[0]:
                    found.append(f"{where}: placeholders differ: {msgid!r} -> {form!r}")
            elif placeholders(form) != expected:
                found.append(f"{where}: placeholders differ: {msgid!r} -> {form!r}")
    if add or where_has:
        return found
    entries = {(e.id[0] if isinstance(e.id, tuple) else e.id) for e in catalog if e.id}  # type: ignore[attr-defined]
    for msgid in entries - messages.keys():
        found.append(f"{PO.name}: not used any more (run update): {msgid!r}")
    if not MO.exists() or MO.read_bytes() != compiled(catalog):
        found.append(f"{MO.name} is not compiled from {PO.name} (run update)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    update = commands.add_parser("update")
    update.add_argument("--add", type=Path, nargs="*", default=[])
    check = commands.add_parser("check")
    check.add_argument("--add", type=Path, nargs="*", default=[])
    check.add_argument("--where", default="")
    missing = commands.add_parser("missing")
    missing.add_argument("--where", default="")
    missing.add_argument("--add", type=Path, nargs="*", default=[])
    options = parser.parse_args()
    if options.command == "update":
        messages = extract()
        write(build(messages, translations(PO, *options.add)))
        return 0
    if options.command == "check":
        found = problems(tuple(options.add), options.where)
        print("\n".join(found) or "catalog complete")
        return 1 if found else 0
    known = translations(*options.add, PO)
    for message in extract().values():
        if message.msgid in known:
            continue
        places = [f"{f}:{n}" for f, n in message.locations]
        if options.where and not any(options.where in p for p in places):
            continue
        print(f"#: {' '.join(places[:3])}")
        print(f"msgid {_quoted(message.msgid)}")
        if message.plural:
            print(f"msgid_plural {_quoted(message.plural)}")
            print('msgstr[0] ""\nmsgstr[1] ""\n')
        else:
            print('msgstr ""\n')
    return 0


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


if __name__ == "__main__":
    raise SystemExit(main())
