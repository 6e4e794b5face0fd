"""Imports apply the name rules the commands apply (issue 12, bug 2).

`lead add` refused a 5,000-character name and `lead import` inserted it: the import only
cleaned its cells. Both now go through `values.clean_name`'s rules (`values.name_rules`): at
most 500 characters, one line, nothing invisible, with the same message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

LONG = "x" * 5000


def _error_of(result: Result) -> str:
    prefix = "crm: error: "
    assert result.stderr.startswith(prefix) and result.stderr.count("\n") == 1, result.stderr
    return result.stderr[len(prefix) :].strip()


def test_lead_import_refuses_the_name_lead_add_refuses(
    crm: Run, crm_json: Json, tmp_path: Path
) -> None:
    refused = _error_of(crm("lead", "add", LONG, code=1))
    assert refused == "name: is longer than 500 characters"
    source = tmp_path / "leads.csv"
    rows = ["name,email", "Ana,ana@x.com", f"{LONG},long@x.com", '"Bo\u200b\nBa",bo@x.com']
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = crm("lead", "import", str(source), "--json", code=3)
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["rejected"]) == (2, 1)
    assert f"crm: line 3: {refused}\n" in result.stderr
    names = sorted(lead["name"] for lead in crm_json("lead", "list", "--all"))
    assert names == ["Ana", "Bo Ba"]  # one line, no invisible character, as `lead add` stores


def test_a_name_only_invisible_is_refused_by_both(crm: Run, tmp_path: Path) -> None:
    refused = _error_of(crm("lead", "add", "\u200b\u200b", code=1))
    source = tmp_path / "leads.csv"
    source.write_text("name,email\n\u200b\u200b,z@x.com\n", encoding="utf-8")
    result = crm("lead", "import", str(source), "--json", code=3)
    assert json.loads(result.stdout)["errors"] == [{"line": 2, "reason": refused}]


def test_opp_import_refuses_the_names_opp_add_refuses(
    crm: Run, crm_json: Json, tmp_path: Path
) -> None:
    refused = _error_of(crm("opp", "add", LONG, "--account", "Acme", code=1))
    assert refused == "name: is longer than 500 characters"
    source = tmp_path / "deals.csv"
    rows = ["name,account,amount", "Fine,Acme,1", f"{LONG},Acme,2", f"Other,{LONG},3"]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = crm("opp", "import", str(source), "--json", code=3)
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["rejected"]) == (1, 2)
    assert f"crm: line 3: {refused}\n" in result.stderr
    assert "crm: line 4: account: is longer than 500 characters\n" in result.stderr
    assert [o["name"] for o in crm_json("opp", "list")] == ["Fine"]
    assert [a["name"] for a in crm_json("account", "list")] == ["Acme"]
