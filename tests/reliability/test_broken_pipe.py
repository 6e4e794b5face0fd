"""A reader that stops early (`crm … | head`) ends crm quietly: no traceback, no message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reliability_harness import crm, crm_env


def test_a_closed_pipe_stops_the_output_quietly(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    rows = "".join(f"Lead {n};lead{n}@exemplo.com.br\n" for n in range(3000))
    source = tmp_path / "leads.csv"
    source.write_text("Nome;E-mail\n" + rows, encoding="utf-8")
    assert crm("lead", "import", str(source), db=db).code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "list", "--csv"],
        env=crm_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `head -1`: 3000 rows cannot fit in the pipe's buffer
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    assert first.startswith(b"id,name,")
    assert err == ""
    assert code in (0, 1)
