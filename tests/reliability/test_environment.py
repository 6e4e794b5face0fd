"""The environment crm runs in: legacy locales and encodings, CRM_NOW, --encoding names.

Real `python -m crmcli` processes: an output encoding is only what a real process gets from
its environment (PYTHONIOENCODING, LC_ALL), never what a test runner's capture pretends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_harness import crm, crm_env

NOW = "2027-06-01T12:00:00"

LEGACY = {
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "ascii": {"PYTHONIOENCODING": "ascii"},
    # the C locale without Python's UTF-8 mode: what a bare cron or container gives
    "C-locale": {"LC_ALL": "C", "PYTHONUTF8": "0"},
}


def _encoding(name: str) -> str:
    return "latin-1" if name == "latin-1" else "ascii"


def run_bytes(db: Path, *args: str, **extra: str) -> tuple[int, bytes, bytes]:
    """`python -m crmcli ARGS` with extra environment, its output as the raw bytes written."""
    env = crm_env(db, CRM_NOW=NOW, **extra)
    for name in ("PYTHONIOENCODING", "PYTHONUTF8", "LC_ALL"):
        if name not in extra:
            env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "crmcli", *args],
        env=env,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database whose deal was made by a default `lead convert`: 'Açaí Ltda – Ana Conceição'."""
    db = tmp_path_factory.mktemp("env") / "crm.db"
    env = crm_env(db, CRM_NOW=NOW)
    for args in (
        ("lead", "add", "Ana Conceição", "--email", "ana@acai.com.br", "--company", "Açaí Ltda"),
        ("lead", "edit", "1", "--budget", "1000", "--timeline", "2027-05-01"),
        ("lead", "qualify", "1"),
        ("lead", "convert", "1"),
    ):
        ran = crm(*args, env=env)
        assert ran.code == 0, ran.stderr
    name = json.loads(crm("opp", "show", "1", "--json", env=env).stdout)["name"]
    assert name == "Açaí Ltda – Ana Conceição"  # the en dash a legacy terminal cannot show
    return db


TABLES = [
    (("opp", "list"), "latin-1"),
    (("opp", "list"), "C-locale"),
    (("opp", "show", "1"), "ascii"),
    (("agenda",), "latin-1"),
    (("report", "stale"), "ascii"),
    (("pipeline", "report"), "latin-1"),
]


@pytest.mark.parametrize(
    ("command", "legacy"), TABLES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
def test_tables_print_look_alikes_under_a_legacy_encoding(
    converted: Path, command: tuple[str, ...], legacy: str
) -> None:
    code, out, err = run_bytes(converted, *command, **LEGACY[legacy])
    assert b"Traceback" not in err, err.decode("latin-1")
    assert code == 0, err
    assert err == b""
    text = out.decode(_encoding(legacy))  # the terminal's encoding, strictly
    if command != ("pipeline", "report"):
        # each character the terminal lacks is one look-alike, so the columns stay aligned
        wanted = "Açaí Ltda" if legacy == "latin-1" else "Acai Ltda"
        assert f"{wanted} - Ana Concei" in text


MACHINE = [
    (("opp", "list", "--json"), "latin-1"),
    (("opp", "list", "--csv"), "C-locale"),
    (("opp", "show", "1", "--json"), "ascii"),
    (("agenda", "--json"), "latin-1"),
    (("report", "stale", "--json"), "ascii"),
    (("export", "--format", "csv", "--entity", "opportunities"), "latin-1"),
    (("export",), "ascii"),
]


@pytest.mark.parametrize(
    ("command", "legacy"), MACHINE, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
def test_json_and_csv_are_the_same_utf8_bytes_whatever_the_locale(
    converted: Path, command: tuple[str, ...], legacy: str
) -> None:
    code, utf8_out, err = run_bytes(converted, *command, PYTHONIOENCODING="utf-8")
    assert code == 0, err
    code, out, err = run_bytes(converted, *command, **LEGACY[legacy])
    assert b"Traceback" not in err, err.decode("latin-1")
    assert code == 0, err
    assert out == utf8_out  # nothing replaced, nothing lost: the contract's "same bytes"
    assert "Açaí Ltda – Ana Conceição" in out.decode("utf-8")


def test_an_export_made_under_latin1_restores(converted: Path, tmp_path: Path) -> None:
    code, out, err = run_bytes(converted, "export", PYTHONIOENCODING="latin-1")
    assert code == 0, err
    backup = tmp_path / "backup.json"
    backup.write_bytes(out)
    fresh = tmp_path / "fresh.db"
    restored = crm("import", str(backup), db=fresh)
    assert restored.code == 0, restored.stderr
    shown = json.loads(crm("opp", "show", "1", "--json", db=fresh).stdout)
    assert shown["name"] == "Açaí Ltda – Ana Conceição"


@pytest.mark.parametrize("legacy", sorted(LEGACY))
def test_an_error_naming_a_value_the_terminal_lacks_is_one_line(
    converted: Path, legacy: str
) -> None:
    code, _out, err = run_bytes(converted, "opp", "list", "--stage", "Negociação", **LEGACY[legacy])
    assert b"Traceback" not in err
    assert code != 0
    line = err.decode(_encoding(legacy))
    assert len(line.splitlines()) == 1, line
    assert "Negocia" in line


@pytest.mark.parametrize(("kind", "codec"), [("lead", "rot13"), ("opp", "zlib")])
def test_encoding_must_be_a_text_encoding(tmp_path: Path, kind: str, codec: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text("name,email,account,amount\nAna,a@b.com,Acme,10\n", encoding="utf-8")
    ran = crm(kind, "import", str(source), "--encoding", codec, db=tmp_path / "crm.db")
    assert ran.code == 2
    assert ran.one_line_error() == (
        f'crm: error: --encoding: "{codec}" is not a text encoding'
        " (use a text encoding such as utf-8, cp1252, latin-1 or utf-16)"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("garbage", "is not an ISO 8601 date or time"),
        ("9999-12-31", "is out of range (from 1900-01-01 to 9989-12-31)"),
        ("0001-01-01T00:00:00+01:00", "is out of range (from 1900-01-01 to 9989-12-31)"),
    ],
)
def test_a_bad_crm_now_is_one_line_naming_it(converted: Path, value: str, problem: str) -> None:
    for command in (("forecast",), ("agenda",)):
        ran = crm(*command, env=crm_env(converted, CRM_NOW=value))
        assert ran.code == 2, ran.stderr
        line = ran.one_line_error()
        assert line.startswith(f'crm: error: CRM_NOW: "{value}" {problem}'), line
        assert ran.stdout == ""


def test_the_latest_crm_now_still_fits_every_look_ahead(converted: Path) -> None:
    # ten years of quarters, tomorrow's agenda and a relative due date from the last moment
    env = crm_env(converted, CRM_NOW="9989-12-31T23:59:59")
    forecast = crm("forecast", "--by", "quarter", "--months", "120", "--json", env=env)
    assert forecast.code == 0, forecast.stderr
    periods = json.loads(forecast.stdout)["periods"]
    assert (periods[0]["period"], periods[-1]["period"]) == ("9989-Q4", "9999-Q3")
    agenda = crm("agenda", "--json", env=env)
    assert agenda.code == 0, agenda.stderr
