"""`crm … edit REF` with no field options on a terminal opens the record in $VISUAL/$EDITOR.

A real `python -m crmcli` on a pseudo-terminal, with a fake editor: a small Python script that
rewrites the file as the test's plan says (one step per time it is opened), keeps a copy of
what it was shown, and counts how often it ran.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import crm, crm_env, on_terminal

FAKE_EDITOR = r"""
import json, os, re, stat, sys
from pathlib import Path

here = Path(sys.argv[1])
target = Path(sys.argv[-1])
count_file = here / "count"
count = int(count_file.read_text()) + 1 if count_file.exists() else 1
count_file.write_text(str(count))
text = target.read_text(encoding="utf-8")
(here / f"seen-{count}.txt").write_text(text, encoding="utf-8")
info = {"path": str(target), "mode": stat.S_IMODE(os.stat(target).st_mode), "argv": sys.argv[2:-1]}
(here / f"info-{count}.json").write_text(json.dumps(info))
steps = json.loads((here / "plan.json").read_text())
step = steps[min(count, len(steps)) - 1]
for old, new in step.get("replace", []):
    assert old in text, (old, text)
    text = text.replace(old, new, 1)
for pattern, new in step.get("sub", []):
    text, found = re.subn(pattern, new, text, count=1, flags=re.M)
    assert found, (pattern, text)
if "write" in step:
    text = step["write"]
target.write_text(text, encoding="utf-8")
sys.exit(step.get("exit", 0))
"""


class Editor:
    """The fake editor of one test: its plan, what it saw, how often it ran."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "editor.py"
        script.write_text(FAKE_EDITOR, encoding="utf-8")
        # a command with arguments, split as a shell would (`code -w`)
        self.command = shlex.join([sys.executable, str(script), str(folder), "--wait"])

    def plan(self, *steps: dict[str, Any]) -> None:
        (self.folder / "plan.json").write_text(json.dumps(list(steps)))

    @property
    def runs(self) -> int:
        count = self.folder / "count"
        return int(count.read_text()) if count.exists() else 0

    def seen(self, run: int) -> str:
        return (self.folder / f"seen-{run}.txt").read_text(encoding="utf-8")

    def info(self, run: int) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.folder / f"info-{run}.json").read_text())
        return loaded


@pytest.fixture
def editor(tmp_path: Path) -> Editor:
    return Editor(tmp_path / "editor")


def _env(db: str, **extra: str) -> dict[str, str]:
    """The child's environment: no editor of the machine's, only the test's."""
    env = crm_env(db)
    env.pop("VISUAL", None)
    env["EDITOR"] = "false"
    return {**env, **extra}


def _json(db: str, *args: str) -> Any:
    ran = crm(*args, "--json", env=_env(db))
    assert ran.code == 0, ran.stderr
    return json.loads(ran.stdout)


def _change_sets(db: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _json(db, "history", "-n", "100")
    return found


def _lead(db: str) -> int:
    ran = crm(
        "lead",
        "add",
        "Maria Souza",
        "--email",
        "maria@x.com",
        "--budget",
        "10000",
        "--source",
        "feira",
        "-q",
        env=_env(db),
    )
    assert ran.code == 0, ran.stderr
    return int(ran.stdout.strip())


@pytest.mark.both_backends
def test_saving_applies_the_changed_fields_in_one_change_set(
    backend_url: str, editor: Editor
) -> None:
    lead_id = _lead(backend_url)
    before = _change_sets(backend_url)
    editor.plan({"replace": [["source: feira", "source: site"], ["10000.00", "1.234,56"]]})
    code, out = on_terminal(
        "lead", "edit", str(lead_id), env=_env(backend_url, EDITOR=editor.command)
    )
    assert code == 0, out
    assert editor.runs == 1
    shown = editor.seen(1)
    assert shown.startswith(f"# Edit lead {lead_id}, save and quit")
    assert "\nname: Maria Souza\n" in shown and "\nemail: maria@x.com\n" in shown
    assert editor.info(1)["argv"] == ["--wait"]
    lead = _json(backend_url, "lead", "show", str(lead_id))
    assert lead["source"] == "site" and lead["budget"] == "1234.56"
    assert lead["email"] == "maria@x.com" and lead["name"] == "Maria Souza"
    after = _change_sets(backend_url)
    assert len(after) == len(before) + 1
    assert after[0]["changes"] == [{"entity": "lead", "id": lead_id, "op": "update"}]


def test_an_unchanged_form_changes_nothing(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    before = _change_sets(db)
    editor.plan({})
    code, out = on_terminal("lead", "edit", str(lead_id), env=_env(db, EDITOR=editor.command))
    assert code == 0, out
    assert "crm: nothing changed" in out
    assert editor.runs == 1
    assert _change_sets(db) == before


def test_an_emptied_form_changes_nothing(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    before = _change_sets(db)
    editor.plan({"write": ""})
    code, out = on_terminal("lead", "edit", str(lead_id), env=_env(db, EDITOR=editor.command))
    assert code == 0 and "nothing changed" in out, out
    assert _change_sets(db) == before


def test_an_invalid_value_reopens_the_editor_with_the_error(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    before = _change_sets(db)
    editor.plan(
        {"replace": [["budget: 10000.00", "budget: lots"], ["source: feira", "source: site"]]},
        {"replace": [["budget: lots", "budget: 500"]]},
    )
    code, out = on_terminal("lead", "edit", str(lead_id), env=_env(db, EDITOR=editor.command))
    assert code == 0, out
    assert editor.runs == 2
    again = editor.seen(2).splitlines()
    assert again[0].startswith('# crm: error: budget: "lots"'), again[0]
    assert "source: site" in again  # the user's text is kept
    assert not any(line.startswith("# crm: error") for line in again[1:])
    lead = _json(db, "lead", "show", str(lead_id))
    assert lead["budget"] == "500.00" and lead["source"] == "site"
    assert len(_change_sets(db)) == len(before) + 1


def test_an_error_left_unfixed_ends_the_command_with_it(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    before = _change_sets(db)
    editor.plan({"replace": [["budget: 10000.00", "budget: lots"]]}, {})
    code, out = on_terminal("lead", "edit", str(lead_id), env=_env(db, EDITOR=editor.command))
    assert code == 1, out
    assert editor.runs == 2
    assert 'crm: error: budget: "lots"' in out and "Traceback" not in out
    assert _change_sets(db) == before
    lead = _json(db, "lead", "show", str(lead_id))
    assert lead["budget"] == "10000.00"


def test_the_form_is_private_and_removed_afterwards(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    editor.plan({"replace": [["source: feira", "source: site"]]})
    code, out = on_terminal("lead", "edit", str(lead_id), env=_env(db, EDITOR=editor.command))
    assert code == 0, out
    info = editor.info(1)
    assert info["mode"] == stat.S_IRUSR | stat.S_IWUSR
    assert not os.path.exists(info["path"])


def test_off_a_terminal_the_usual_error_stays(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    editor.plan({"replace": [["source: feira", "source: site"]]})
    ran = crm("lead", "edit", str(lead_id), env=_env(db, EDITOR=editor.command))
    assert ran.code == 1
    assert ran.one_line_error() == "crm: error: nothing to change: give at least one option"
    assert editor.runs == 0


def test_visual_is_preferred_over_editor(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    other = Editor(tmp_path / "other")
    other.plan({"exit": 3})
    editor.plan({"replace": [["source: feira", "source: site"]]})
    env = _env(db, EDITOR=other.command, VISUAL=editor.command)
    code, out = on_terminal("lead", "edit", str(lead_id), env=env)
    assert code == 0, out
    assert (editor.runs, other.runs) == (1, 0)
    # $EDITOR alone, failing: nothing is changed, and the failure is said
    code, out = on_terminal("lead", "edit", str(lead_id), env=_env(db, EDITOR=other.command))
    assert code == 1 and other.runs == 1
    assert "exited with status 3: nothing was changed" in out
    lead = _json(db, "lead", "show", str(lead_id))
    assert lead["source"] == "site"


def test_an_editor_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    env = _env(db, EDITOR=str(tmp_path / "no-such-editor"))
    code, out = on_terminal("lead", "edit", str(lead_id), env=env)
    assert code == 1
    assert "crm: error: cannot run the editor" in out and "Traceback" not in out


@pytest.mark.both_backends
def test_contact_account_and_opp_edit_through_the_form(backend_url: str, editor: Editor) -> None:
    db = backend_url
    for args in (
        ["account", "add", "Acme", "-q"],
        ["contact", "add", "Ana Lima", "--account", "Acme", "--email", "ana@acme.com", "-q"],
        ["opp", "add", "Site novo", "--account", "Acme", "--amount", "500", "-q"],
    ):
        ran = crm(*args, env=_env(db))
        assert ran.code == 0, ran.stderr
    contact = _json(db, "contact", "show", "Ana Lima")
    opp = _json(db, "opp", "show", "Site novo")
    sets = len(_change_sets(db))

    editor.plan({"replace": [["industry:", "industry: Retail"]]})
    code, out = on_terminal("account", "edit", "Acme", env=_env(db, EDITOR=editor.command))
    assert code == 0, out

    (editor.folder / "count").unlink()
    editor.plan({"replace": [["type: prospect", "type: customer"], ["title:", "title: CTO"]]})
    code, out = on_terminal("contact", "edit", "Ana Lima", env=_env(db, EDITOR=editor.command))
    assert code == 0, out
    assert "Acme" in editor.seen(1)  # the account named in the comment

    (editor.folder / "count").unlink()
    editor.plan(
        {
            "replace": [
                ["amount: 500.00", "amount: 1.500,00"],
                ["contact:", f"contact: {contact['id']}"],
            ],
            "sub": [[r"^probability: [0-9]+", "probability: 65"]],
        }
    )
    code, out = on_terminal("opp", "edit", "Site novo", env=_env(db, EDITOR=editor.command))
    assert code == 0, out
    assert "# the stages: " in editor.seen(1)

    account = _json(db, "account", "show", "Acme")
    assert account["industry"] == "Retail"
    contact = _json(db, "contact", "show", str(contact["id"]))
    assert (contact["type"], contact["title"]) == ("customer", "CTO")
    opp = _json(db, "opp", "show", str(opp["id"]))
    assert opp["amount"] == "1500.00" and opp["probability"] == 65
    assert opp["contact_id"] == contact["id"]
    assert len(_change_sets(db)) == sets + 3


def test_the_form_keeps_english_keys_in_portuguese(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    editor.plan({"replace": [["source: feira", "source: site"]]})
    env = _env(db, EDITOR=editor.command, CRM_LANG="pt_BR")
    code, out = on_terminal("lead", "edit", str(lead_id), env=env)
    assert code == 0, out
    shown = editor.seen(1).splitlines()
    keys = [line.partition(":")[0] for line in shown if not line.startswith("#")]
    assert keys == [
        "name",
        "email",
        "phone",
        "company",
        "title",
        "source",
        "budget",
        "timeline",
        "owner",
        "notes",
    ]
    assert _json(db, "lead", "show", str(lead_id))["source"] == "site"


def test_a_lead_named_by_its_email_can_change_that_email(tmp_path: Path, editor: Editor) -> None:
    db = str(tmp_path / "crm.db")
    lead_id = _lead(db)
    editor.plan({"replace": [["email: maria@x.com", "email: Maria@Y.com"]]})
    env = _env(db, EDITOR=editor.command)
    code, out = on_terminal("lead", "edit", "maria@x.com", env=env)
    assert code == 0, out
    assert _json(db, "lead", "show", str(lead_id))["email"] == "maria@y.com"
