"""Tables on real pseudo-terminals of 60, 80 and 120 columns (issue 14): golden renderings of
`pipeline report`, `opp list`, `agenda` and `lead list`; numbers, amounts and dates whole;
no line wider than the terminal; colour only without NO_COLOR; a screenful of a long list.

`CRM_UPDATE_GOLDEN=1 pytest tests/reliability/test_terminal_layout.py` rewrites the files in
`golden/` (read them before committing).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from reliability_harness import crm, crm_env, on_terminal

pytestmark = pytest.mark.sqlite_only

GOLDEN = Path(__file__).resolve().parent / "golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NOW = "2026-12-07T12:00:00"
COMMANDS = {
    "pipeline-report": ("pipeline", "report"),
    "opp-list": ("opp", "list"),
    "agenda": ("agenda",),
    "lead-list": ("lead", "list"),
}


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small pipeline with long names, Brazilian amounts, an overdue and a due-today call."""
    db = tmp_path_factory.mktemp("layout") / "crm.db"
    env = crm_env(db, CRM_NOW=NOW, CRM_LANG="pt_BR", CRM_OWNER="ana", TZ="UTC")
    steps = [
        ("db", "init", "--currency", "BRL"),
        ("lead", "add", "Maria Conceição de Albuquerque Figueiredo", "--company",
         "Construtora Horizonte Engenharia e Comércio Ltda", "--email",
         "maria.conceicao@construtorahorizonte.com.br", "--budget", "R$ 1.234.567,89",
         "--timeline", "31/12/2027", "--source", "ExpoVendas 2026"),
        ("lead", "add", "João", "--company", "Açaí", "--budget", "96.000", "--timeline", "+30d"),
        ("lead", "qualify", "1"),
        ("lead", "convert", "1"),
        ("opp", "add", "Açaí do Norte – linha de polpa congelada", "--account", "Açaí do Norte",
         "--amount", "96.000,00", "--close", "15/01/2027"),
        ("opp", "advance", "2", "--to", "negociacao"),
        ("opp", "add", "Cafeteria Três Rios", "--account", "Três Rios", "--amount", "12.500"),
        ("opp", "win", "3"),
        ("activity", "add", "Ligar para a Maria sobre a proposta revisada", "--opp", "1",
         "--due", "ontem", "--type", "ligação"),
        ("activity", "add", "Reunião de fechamento", "--opp", "2", "--due", "hoje 15:00",
         "--type", "reunião"),
    ]  # fmt: skip
    for args in steps:
        done = crm(*args, env=env)
        assert done.code == 0, (args, done.stderr)
    return db


def _screen(db: Path, args: tuple[str, ...], columns: int, **extra: str) -> str:
    env = crm_env(db, CRM_NOW=NOW, CRM_LANG="pt_BR", TZ="UTC", **extra)
    if "NO_COLOR" in extra:
        env["NO_COLOR"] = extra["NO_COLOR"]
    else:
        env.pop("NO_COLOR", None)
    code, out = on_terminal(*args, env=env, columns=columns, lines=40)
    assert code == 0, out
    return out


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_golden_rendering(sales: Path, name: str, columns: int) -> None:
    shown = ANSI.sub("", _screen(sales, COMMANDS[name], columns, NO_COLOR="1"))
    lines = shown.splitlines()
    assert all(len(line) <= columns for line in lines), [ln for ln in lines if len(ln) > columns]
    for whole in ("1.234.567,89", "96.000,00", "31/12/2027", "15/01/2027"):
        for line in lines:  # an amount or a date is never cut or wrapped
            assert not (whole[:5] in line and whole not in line and "…" not in line), line
    path = GOLDEN / f"{name}-{columns}.txt"
    if os.environ.get("CRM_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(shown, encoding="utf-8")
    assert shown == path.read_text(encoding="utf-8")


def test_amounts_and_dates_stay_whole_at_60_columns(sales: Path) -> None:
    shown = ANSI.sub("", _screen(sales, ("opp", "list"), 60, NO_COLOR="1"))
    assert "1.234.567,89" in shown and "96.000,00" in shown and "15/01/2027" in shown
    leads = ANSI.sub("", _screen(sales, ("lead", "list"), 60, NO_COLOR="1"))
    assert "1.234.567,89" in leads and "…" in leads  # the long name shrank, not the amount


def test_no_color_removes_the_colour_and_keeps_the_layout(sales: Path) -> None:
    coloured = _screen(sales, ("agenda",), 100)
    plain = _screen(sales, ("agenda",), 100, NO_COLOR="1")
    assert "\x1b[31m" in coloured  # overdue in red
    assert "\x1b[33m" in coloured  # due today in yellow
    assert "\x1b[31m" not in plain and "\x1b[33m" not in plain
    assert ANSI.sub("", coloured) == ANSI.sub("", plain)  # the same table, box and all
    assert "─" in plain
    won = _screen(sales, ("opp", "list", "--status", "won"), 100)
    assert "\x1b[32m" in won  # won in green


def test_a_long_list_shows_a_screenful_and_how_many_more(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    source = tmp_path / "leads.csv"
    source.write_text(
        "name,email\n" + "".join(f"Pessoa {n},p{n}@x.com.br\n" for n in range(300)),
        encoding="utf-8",
    )
    assert crm("lead", "import", str(source), env=crm_env(db)).code == 0
    env = crm_env(db, CRM_LANG="en")
    env.pop("NO_COLOR", None)
    code, out = on_terminal("lead", "list", env=env, columns=80, lines=30)
    assert code == 0
    lines = ANSI.sub("", out).splitlines()
    assert len(lines) <= 30
    assert lines[-1] == "… 276 more rows: piped output is never cut (add `| less` to see them all)"
    piped = crm("lead", "list", env=crm_env(db))
    assert len(piped.stdout.splitlines()) == 301  # header and every row
    code, out = on_terminal("lead", "list", "--limit", "100", env=env, columns=80, lines=30)
    assert len(ANSI.sub("", out).splitlines()) > 100  # a limit asked for is shown whole
