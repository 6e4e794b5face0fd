"""Nobody else reads it: under umask 022 the data folder is 0700 and every file crmcli writes
(database, -wal, -shm, backups, exports, rejects) is 0600; a PostgreSQL password never shows."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_harness import crm, crm_env, preexec

UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_data_folder_is_0700_and_database_0600_under_umask_022(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    env = crm_env(XDG_DATA_HOME=str(xdg))
    env.pop("CRM_DB")
    ran = crm("lead", "add", "Ana", env=env, umask=UMASK)
    assert ran.code == 0, ran.stderr
    folder = xdg / "crmcli"
    assert mode(xdg) == 0o700 and mode(folder) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["crm.db"]
    assert mode(folder / "crm.db") == 0o600
    shown = crm("db", "path", env=env, umask=UMASK)
    assert shown.stdout.strip() == str(folder / "crm.db")


def test_wal_and_shm_made_by_crm_are_0600(tmp_path: Path) -> None:
    """An import reading a slow stdin holds the database open: its -wal and -shm are there."""
    db_path = tmp_path / "data" / "crm.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "import", "-", "--json"],
        env=crm_env(db_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec(umask=UMASK),
    )
    assert proc.stdin is not None
    try:
        # more than the 64 KiB the reader peeks at, so the import starts before stdin ends
        head = "Nome;E-mail\n" + "".join(f"Lead {i};l{i}@x.com\n" for i in range(4000))
        proc.stdin.write(head.encode())
        proc.stdin.flush()
        wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")
        deadline = time.monotonic() + 60
        while not (wal.exists() and shm.exists()):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the import never opened the database"
            time.sleep(0.01)
        assert (mode(db_path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        assert mode(db_path.parent) == 0o700
        out, err = proc.communicate(b"Last;last@x.com\n", timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert json.loads(out)["inserted"] == 4001


def test_backups_exports_and_rejects_are_0600(tmp_path: Path) -> None:
    db_path = tmp_path / "crm.db"
    assert crm("lead", "add", "Ana", "--email", "ana@x.com", db=db_path, umask=UMASK).code == 0
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "leads.csv"
    existing.write_text("old\n")
    existing.chmod(0o644)  # an export replaces it with a private file
    bad = tmp_path / "bad.csv"
    bad.write_text("Nome;E-mail\nBia;not-an-email\n")
    steps = [
        ["db", "backup", str(out / "copy.db")],
        ["export", "--output", str(out / "all.json")],
        ["export", "--format", "csv", "--entity", "leads", "--output", str(existing)],
        ["lead", "import", str(bad), "--rejects", str(out / "rejects.csv")],
    ]
    for step in steps:
        ran = crm(*step, db=db_path, umask=UMASK)
        assert ran.code in (0, 3), (step, ran.stderr)
    made = sorted(p.name for p in out.iterdir())
    assert made == ["all.json", "copy.db", "leads.csv", "rejects.csv"]
    assert {name: mode(out / name) for name in made} == dict.fromkeys(made, 0o600)
    assert "ana@x.com" in existing.read_text()


PASSWORD = "s3cr#t-P4ss"
URLS = [
    f"postgresql://sales:{PASSWORD}@127.0.0.1:1/crm",
    f"postgresql+psycopg://sales:{PASSWORD}@127.0.0.1:1/crm?connect_timeout=2",
    f"postgres://sales:{PASSWORD}@127.0.0.1:1/crm",
    f"postgresql://sales@127.0.0.1:1/crm?password={PASSWORD}",
]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("url", URLS, ids=["url", "driver", "postgres-scheme", "query"])
def test_a_postgresql_password_never_appears_in_errors(url: str, debug: bool) -> None:
    """Nothing listens on port 1: the connection error (and its traceback) must still be safe."""
    ran = crm(*(["--debug"] if debug else []), "--db", url, "lead", "list", timeout=60)
    assert ran.code != 0
    text = ran.stdout + ran.stderr
    assert PASSWORD not in text and "s3cr" not in text, text
    if debug:
        assert "Traceback" in ran.stderr  # --debug does show one, without the password


def test_a_postgresql_password_never_appears_in_db_path_or_check() -> None:
    for url in URLS:
        shown = crm("--db", url, "db", "path", "--json")
        assert shown.code == 0, shown.stderr
        assert PASSWORD not in shown.stdout + shown.stderr
        assert "***" in json.loads(shown.stdout)["path"]
    checked = crm("--db", URLS[0], "db", "check", "--json", timeout=60)
    assert checked.code != 0 and PASSWORD not in checked.stdout + checked.stderr


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_password_with_an_unescaped_at_sign_never_appears_even_in_part(debug: bool) -> None:
    """`p@ss` unescaped: the driver splits the URL at the first `@` and names the "host"."""
    url = "postgresql://sales:pa55@w0rd@127.0.0.1:1/crm"
    flags = ["--debug"] if debug else []
    for command in (["lead", "list"], ["db", "path"]):
        ran = crm(*flags, "--db", url, *command, timeout=60)
        text = ran.stdout + ran.stderr
        assert "pa55" not in text and "w0rd" not in text, text


def test_a_password_in_crm_db_never_appears(tmp_path: Path) -> None:
    env = crm_env(URLS[0])
    for command in (["lead", "list"], ["db", "path"], ["--help"]):
        ran = crm(*command, env=env, timeout=60)
        assert PASSWORD not in ran.stdout + ran.stderr
