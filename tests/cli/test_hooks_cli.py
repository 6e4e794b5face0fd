"""Hooks (docs/hooks.md): an executable named after an event runs after the commit, with the
change as JSON on stdin; a hook that fails, hangs or is not safe changes nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
EVENTS = (
    "lead-added",
    "lead-qualified",
    "lead-converted",
    "opp-stage-changed",
    "opp-won",
    "opp-lost",
    "import-finished",
)
RECORDER = """#!/bin/sh
cat >> "{out}/payloads.jsonl"
echo "$CRM_EVENT $CRM_CHANGE_SET" >> "{out}/env.txt"
echo "hook output on stdout"
"""


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hooks folder (0700) that CRM_HOOKS_DIR points at."""
    folder = tmp_path / "hooks"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    monkeypatch.setenv("CRM_HOOKS_DIR", str(folder))
    for name in ("CRM_NO_HOOKS", "CRM_HOOK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return folder


def hook(folder: Path, event: str, text: str, mode: int = 0o700) -> Path:
    path = folder / event
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def record(folder: Path, *events: str) -> Path:
    """Hooks for `events` that append their stdin and environment to files in tmp_path."""
    out = folder.parent
    for event in events:
        hook(folder, event, RECORDER.format(out=out))
    return out


def payloads(out: Path) -> list[dict[str, Any]]:
    path = out / "payloads.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if "warning" in line]


def newest_change_set(crm_json: Json) -> int:
    return int(crm_json("history")[0]["id"])


# -- what a hook gets ------------------------------------------------------------------------


def test_a_hook_gets_the_change_as_json_on_stdin(hooks: Path, crm: Run, crm_json: Json) -> None:
    out = record(hooks, "lead-added")
    lead = crm_json("lead", "add", "Ana Conceição", "--email", "ana@x.io", "--budget", "1234.5")
    [sent] = payloads(out)
    assert sent == {
        "event": "lead-added",
        "change_set": newest_change_set(crm_json),
        "records": [lead],
    }
    assert sent["records"][0]["budget"] == "1234.50"  # exact decimal string, as --json
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sent["records"][0]["created_at"])
    assert (out / "env.txt").read_text().split() == ["lead-added", str(sent["change_set"])]


def test_the_default_folder_is_hooks_in_the_user_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crm: Run
) -> None:
    monkeypatch.delenv("CRM_HOOKS_DIR", raising=False)
    monkeypatch.delenv("CRM_NO_HOOKS", raising=False)
    folder = tmp_path / "xdg-config" / "crmcli" / "hooks"  # XDG_CONFIG_HOME (conftest)
    folder.mkdir(parents=True, mode=0o700)
    folder.chmod(0o700)
    out = record(folder, "lead-added")
    crm("lead", "add", "Ana")
    assert [p["event"] for p in payloads(out)] == ["lead-added"]


def test_every_event_of_the_sales_loop(hooks: Path, crm: Run, crm_json: Json) -> None:
    out = record(hooks, *EVENTS)
    crm("lead", "add", "Bob", "--company", "Acme", "--budget", "500", "--timeline", "2027-01-31")
    crm("lead", "qualify", "1")
    converted = crm_json("lead", "convert", "1")
    converted_set = newest_change_set(crm_json)
    advanced = crm_json("opp", "advance", "1")
    won = crm_json("opp", "win", "1")
    crm("opp", "reopen", "1")  # not an event
    crm("opp", "add", "Second deal", "--account", "Acme", "--amount", "10")  # nor this
    lost = crm_json("opp", "lose", "2", "--reason", "price")
    sent = payloads(out)
    assert [p["event"] for p in sent] == [
        "lead-added",
        "lead-qualified",
        "lead-converted",
        "opp-stage-changed",
        "opp-won",
        "opp-lost",
    ]
    assert sent[1]["records"][0]["status"] == "qualified"
    conversion = sent[2]
    assert conversion["change_set"] == converted_set
    lead, account, contact, deal = conversion["records"]
    assert lead["status"] == "converted" and lead["id"] == converted["id"]
    assert account == converted["account"] and contact == converted["contact"]
    assert deal == converted["opportunity"]
    assert sent[3]["records"] == [advanced] and advanced["stage"] == "Qualification"
    assert sent[4]["records"] == [won] and won["status"] == "won"
    assert sent[5]["records"] == [lost] and lost["lost_reason"] == "price"
    assert len({p["change_set"] for p in sent}) == len(sent)  # one change set each


def test_import_finished_once_per_import_with_the_counts(
    hooks: Path, tmp_path: Path, crm: Run, crm_json: Json
) -> None:
    out = record(hooks, "import-finished", "lead-added")
    crm("lead", "add", "Old", "--email", "old@x.io")
    leads = tmp_path / "leads.csv"
    leads.write_text("name,email\nAna,ana@x.io\nOld again,old@x.io\nBia,bia@x.io\n,noname@x.io\n")
    crm("lead", "import", str(leads), code=None)
    lead_set = newest_change_set(crm_json)
    deals = tmp_path / "deals.csv"
    deals.write_text("name,account,amount\nBig deal,Acme,1000\n")
    crm("opp", "import", str(deals))
    sent = payloads(out)
    assert [p["event"] for p in sent] == ["lead-added", "import-finished", "import-finished"]
    assert sent[1]["change_set"] == lead_set
    assert sent[1]["records"] == [
        {"entity": "lead", "read": 4, "inserted": 2, "updated": 0, "skipped": 1, "rejected": 1}
    ]
    assert sent[2]["change_set"] == newest_change_set(crm_json)
    assert sent[2]["records"][0]["entity"] == "opportunity"
    assert sent[2]["records"][0]["inserted"] == 1


def test_nothing_runs_on_a_dry_run(hooks: Path, tmp_path: Path, crm: Run) -> None:
    crm("lead", "add", "Bob", "--company", "Acme", "--budget", "500", "--timeline", "2027-01-31")
    crm("lead", "qualify", "1")
    out = record(hooks, "lead-converted", "import-finished")
    crm("lead", "convert", "1", "--dry-run")
    leads = tmp_path / "leads.csv"
    leads.write_text("name,email\nAna,ana@x.io\n")
    crm("lead", "import", str(leads), "--dry-run")
    assert payloads(out) == []


def test_no_hooks_option_and_environment(
    hooks: Path, monkeypatch: pytest.MonkeyPatch, crm: Run, crm_json: Json
) -> None:
    out = record(hooks, "lead-added")
    crm("--no-hooks", "lead", "add", "Ana")
    monkeypatch.setenv("CRM_NO_HOOKS", "1")
    crm("lead", "add", "Bia")
    assert payloads(out) == []
    monkeypatch.setenv("CRM_NO_HOOKS", "0")  # 0 (or empty) leaves them on
    crm("lead", "add", "Cid")
    assert [p["records"][0]["name"] for p in payloads(out)] == ["Cid"]
    assert len(crm_json("lead", "list")) == 3


def test_a_missing_folder_says_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crm: Run
) -> None:
    monkeypatch.setenv("CRM_HOOKS_DIR", str(tmp_path / "no-such-folder"))
    crm("db", "init")
    result = crm("lead", "add", "Ana")
    assert result.stderr == ""


# -- a hook that fails changes nothing -----------------------------------------------------


def test_a_failing_hook_warns_and_the_change_stands(hooks: Path, crm: Run, crm_json: Json) -> None:
    hook(hooks, "lead-added", "#!/bin/sh\ncat >/dev/null\necho oops >&2\nexit 3\n")
    result = crm("lead", "add", "Ana", "--json")
    assert json.loads(result.stdout)["name"] == "Ana"
    assert warnings(result) == [
        "crm: warning: hook lead-added failed: exit status 3 (the change itself is saved)"
    ]
    assert [lead["name"] for lead in crm_json("lead", "list")] == ["Ana"]


def test_a_hook_that_cannot_start_warns(hooks: Path, crm: Run, crm_json: Json) -> None:
    hook(hooks, "lead-added", "#!/no/such/interpreter\n")
    result = crm("lead", "add", "Ana")
    [line] = warnings(result)
    assert "hook lead-added could not start" in line
    hook(hooks, "lead-added", "#!/bin/sh\nexit 0\n", mode=0o600)
    result = crm("lead", "add", "Bia")
    [line] = warnings(result)
    assert "not executable" in line
    assert len(crm_json("lead", "list")) == 2


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for a parent to reap it is not running)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return fields[0] not in ("Z", "X")


def test_a_hook_past_the_timeout_is_killed_with_its_children(
    hooks: Path, monkeypatch: pytest.MonkeyPatch, crm: Run, crm_json: Json
) -> None:
    monkeypatch.setenv("CRM_HOOK_TIMEOUT", "1")
    out = hooks.parent
    hook(
        hooks,
        "lead-added",
        f'#!/bin/sh\nsleep 30 &\necho $! > "{out}/child.pid"\necho $$ > "{out}/hook.pid"\n'
        "sleep 30\n",
    )
    started = time.monotonic()
    result = crm("lead", "add", "Ana")
    took = time.monotonic() - started
    assert took < 10, took
    assert warnings(result) == [
        "crm: warning: hook lead-added ran past 1 s and was stopped (the change itself is saved)"
    ]
    pids = [int((out / name).read_text()) for name in ("hook.pid", "child.pid")]
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]
    assert [lead["name"] for lead in crm_json("lead", "list")] == ["Ana"]


def test_the_hook_output_never_reaches_crm_stdout(hooks: Path) -> None:
    record(hooks, "lead-added")
    done = subprocess.run(
        [sys.executable, "-m", "crmcli", "lead", "add", "Ana", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "Ana"  # one JSON document, nothing else
    assert "hook output on stdout" in done.stderr


# -- what is not run -----------------------------------------------------------------------


def test_a_hook_others_may_write_is_not_run(hooks: Path, crm: Run) -> None:
    out = record(hooks, "lead-added")
    (hooks / "lead-added").chmod(0o777)
    result = crm("lead", "add", "Ana")
    [line] = warnings(result)
    assert "hook lead-added not run:" in line and "writable by group or others" in line
    (hooks / "lead-added").chmod(0o720)  # group-writable: refused too
    assert len(warnings(crm("lead", "add", "Bia"))) == 1
    assert payloads(out) == []


def test_a_folder_the_group_may_write_runs_no_hook(hooks: Path, crm: Run) -> None:
    out = record(hooks, "lead-added")
    hooks.chmod(0o770)
    result = crm("lead", "add", "Ana")
    [line] = warnings(result)
    assert f"hooks not run (lead-added): the folder {hooks} is writable by group or others" in line
    assert payloads(out) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_hook_someone_else_owns_is_not_run(hooks: Path, crm: Run) -> None:
    out = record(hooks, "lead-added")
    os.chown(hooks / "lead-added", 65534, 65534)  # nobody
    result = crm("lead", "add", "Ana")
    [line] = warnings(result)
    assert "is not owned by you" in line
    assert payloads(out) == []


# -- the two hooks of docs/hooks.md, as printed there ---------------------------------------


def documented_hook(name: str) -> str:
    """The script of docs/hooks.md whose second line is `# file: hooks/NAME`."""
    for block in re.findall(r"```(?:sh|python)\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S):
        lines = block.splitlines()
        if len(lines) > 1 and lines[1] == f"# file: hooks/{name}":
            return block
    raise AssertionError(f"docs/hooks.md has no hooks/{name}")


def test_the_documented_csv_hook_appends_conversions(
    hooks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crm: Run, crm_json: Json
) -> None:
    import csv

    hook(hooks, "lead-converted", documented_hook("lead-converted"))
    sheet = tmp_path / "conversions.csv"
    monkeypatch.setenv("CRM_CONVERSIONS_CSV", str(sheet))
    crm(
        "lead",
        "add",
        "Ana",
        "--company",
        "Açaí Ltda",
        "--budget",
        "1.234,56",
        "--timeline",
        "2027-01-31",
    )
    crm("lead", "add", "Bob", "--company", "Acme")
    crm("lead", "qualify", "1")
    crm("lead", "qualify", "2", "--budget", "10", "--timeline", "2027-02-01")
    first = crm_json("lead", "convert", "1")
    crm("lead", "convert", "2", "--no-opportunity")
    with sheet.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["lead"], r["account"], r["opportunity"], r["amount"]) for r in rows] == [
        ("Ana", "Açaí Ltda", first["opportunity"]["name"], "1234.56"),
        ("Bob", "Acme", "", ""),
    ]
    assert rows[1]["change_set"] == str(newest_change_set(crm_json))


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        self.received.append(self.rfile.read(size))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    """A local HTTP server taking POSTs, in a thread: (its URL, the bodies it got)."""
    received: list[bytes] = []
    handler = type("Handler", (_Webhook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed here")
def test_the_documented_chat_hook_posts_the_won_deal(
    hooks: Path,
    webhook: tuple[str, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
    crm: Run,
) -> None:
    url, received = webhook
    hook(hooks, "opp-won", documented_hook("opp-won"))
    monkeypatch.setenv("CRM_CHAT_WEBHOOK", url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    crm("opp", "add", "Açaí – Ana", "--account", "Açaí", "--amount", "12500")
    result = crm("opp", "win", "1")
    assert warnings(result) == []
    assert [json.loads(body) for body in received] == [
        {"text": "Won: Açaí – Ana (12500.00, tester)"}
    ]
