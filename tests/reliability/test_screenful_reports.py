"""`report stale` and `agenda` on a real pseudo-terminal (issue 16): a screenful by default,
read as such (only what fits is fetched), with how many more there are; everything when piped
or with `--all`; `--limit N` with the totals in JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from reliability_harness import crm, crm_env, on_terminal

pytestmark = pytest.mark.sqlite_only

ANSI = re.compile(r"\x1b\[[0-9;]*m")
NOW = "2026-12-07T12:00:00"


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 new deals; 30 overdue calls (deals 1-30) and 2 for today (deals 31-32): the other 28
    have no next step, and are the stale ones."""
    folder = tmp_path_factory.mktemp("screenful")
    db = folder / "crm.db"
    env = crm_env(db, CRM_NOW=NOW, TZ="UTC", CRM_LANG="en")
    deals = folder / "deals.csv"
    deals.write_text(
        "name,account,amount\n" + "".join(f"Deal {n},Acme,{n * 100}\n" for n in range(1, 61)),
        encoding="utf-8",
    )
    assert crm("db", "init", "--currency", "BRL", env=env).code == 0
    assert crm("opp", "import", str(deals), env=env).code == 0
    for n in range(1, 33):
        due = "2026-12-01" if n <= 30 else "2026-12-07"
        done = crm(
            "activity", "add", f"Call {n}", "--type", "call", "--opp", str(n), "--due", due, env=env
        )
        assert done.code == 0, done.stderr
    return db


def _env(db: Path) -> dict[str, str]:
    env = crm_env(db, CRM_NOW=NOW, TZ="UTC", CRM_LANG="en")
    env.pop("NO_COLOR", None)
    return env


def _terminal(db: Path, *args: str, lines: int) -> list[str]:
    code, out = on_terminal(*args, env=_env(db), columns=120, lines=lines)
    assert code == 0, out
    return ANSI.sub("", out).splitlines()


def _stale_rows(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"^\s*\d+\s+Deal \d+ ", line)]


def test_report_stale_shows_a_screenful_on_a_terminal_with_the_total_of_all(idle: Path) -> None:
    stale = json.loads(crm("report", "stale", "--json", env=crm_env(idle, CRM_NOW=NOW)).stdout)
    count = stale["total"]["count"]
    assert count == len(stale["deals"]) == 28  # the deals with no next step; JSON is never cut
    shown = _terminal(idle, "report", "stale", lines=30)
    assert len(shown) <= 30
    rows = _stale_rows(shown)
    assert len(rows) == 30 - 6 - 1 - 2  # the screen, less title, header, footer and the note
    assert any(f"{count} deals" in line for line in shown)  # the footer totals every one
    more = count - len(rows)
    assert (
        shown[-1]
        == f"crm: {more} more stale deals: --all lists every one (piped output is never cut)"
    )
    assert len(_stale_rows(_terminal(idle, "report", "stale", "--all", lines=30))) == count
    piped = crm("report", "stale", env=crm_env(idle, CRM_NOW=NOW, CRM_LANG="en"))
    assert len(_stale_rows(piped.stdout.splitlines())) == count  # piped output is never cut
    assert "more stale" not in piped.stderr
    limited = _terminal(idle, "report", "stale", "--limit", "3", lines=30)
    assert len(_stale_rows(limited)) == 3
    assert (
        limited[-1] == f"crm: {count - 3} more stale deals: run without --limit to list every one"
    )


def test_agenda_shares_one_screenful_between_its_sections(idle: Path) -> None:
    shown = _terminal(idle, "agenda", lines=40)
    assert len(shown) <= 40
    text = "\n".join(shown)
    overdue = len(re.findall(r"Call (\d+) +2026-12-01", text))
    today = len(re.findall(r"Call (\d+) +2026-12-07", text))
    deals = len(re.findall(r"^\s*\d+\s+Deal \d+ ", text, re.M))
    # 40 lines less 6 of each section's frame: 16 rows; today's 2, then 7 and 7
    assert (overdue, today, deals) == (7, 2, 7)
    assert "… and 23 more (crm agenda --all lists them all)" in shown
    assert "… and 21 more (crm report stale lists them all)" in shown
    whole = "\n".join(_terminal(idle, "agenda", "--all", lines=40))
    assert len(re.findall(r"Call (\d+) +2026-12-01", whole)) == 30
    assert len(re.findall(r"^\s*\d+\s+Deal \d+ ", whole, re.M)) == 28
    assert "more (" not in whole


def test_agenda_piped_keeps_every_activity_and_twenty_deals(idle: Path) -> None:
    piped = crm("agenda", env=crm_env(idle, CRM_NOW=NOW, TZ="UTC", CRM_LANG="en")).stdout
    assert len(re.findall(r"Call \d+ +2026-12-01", piped)) == 30
    assert len(re.findall(r"Call \d+ +2026-12-07", piped)) == 2
    assert len(re.findall(r"^\s*\d+\s+Deal \d+ ", piped, re.M)) == 20
    assert "… and 8 more (crm report stale lists them all)" in piped


def test_agenda_limit_caps_each_section_and_json_says_how_many_in_all(idle: Path) -> None:
    env = crm_env(idle, CRM_NOW=NOW, TZ="UTC")
    day = json.loads(crm("agenda", "--limit", "5", "--json", env=env).stdout)
    assert [len(day[k]) for k in ("overdue", "today", "no_next_step")] == [5, 2, 5]
    assert [day[k] for k in ("overdue_total", "today_total", "no_next_step_total")] == [30, 2, 28]
    assert [a["subject"] for a in day["overdue"]] == [f"Call {n}" for n in range(1, 6)]
    whole = json.loads(crm("agenda", "--all", "--json", env=env).stdout)
    assert [len(whole[k]) for k in ("overdue", "today", "no_next_step")] == [30, 2, 28]
    default = json.loads(crm("agenda", "--json", env=env).stdout)
    assert [len(default[k]) for k in ("overdue", "today", "no_next_step")] == [30, 2, 20]
