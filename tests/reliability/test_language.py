"""Portuguese and English in real processes: language from the environment (no system locale
on this machine), display formats, machine formats unchanged, accents, currency, help and
usage errors, shell completion (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_harness import Ran, crm, crm_env

from crmcli import i18n

pytestmark = pytest.mark.sqlite_only

PT = {"CRM_LANG": "pt_BR"}
EN = {"CRM_LANG": "en"}


def run(db: Path, *args: str, code: int = 0, **env: str) -> Ran:
    done = crm(*args, env=crm_env(db, **{"CRM_NOW": "2026-12-07T12:00:00", "TZ": "UTC", **env}))
    assert done.code == code, (args, done.stdout, done.stderr)
    return done


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CRM_LANG": "pt_BR", "LANG": "en_US.UTF-8"}, "pt_BR"),
        ({"CRM_LANG": "pt", "LANG": "en_US.UTF-8"}, "pt_BR"),
        ({"CRM_LANG": "en", "LC_ALL": "pt_BR.UTF-8"}, "en"),
        ({"LC_ALL": "pt_BR.UTF-8", "LANG": "en_US.UTF-8"}, "pt_BR"),
        ({"LC_ALL": "", "LC_MESSAGES": "pt_BR", "LANG": "en_US"}, "pt_BR"),
        ({"LANG": "pt_PT.UTF-8"}, "pt_BR"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_comes_from_crm_lang_then_the_locale_variables(
    environ: dict[str, str], expected: str
) -> None:
    assert i18n.chosen_language(environ) == expected


def test_help_and_usage_errors_speak_the_language_of_lang(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    env = {"CRM_LANG": "", "LC_ALL": "", "LANG": "pt_BR.UTF-8"}
    helped = run(db, "lead", "-h", **env).stdout
    assert helped.startswith("Uso: crm lead [OPÇÕES] COMANDO [ARGS]...")
    assert "Comandos:" in helped and "Mostra esta mensagem e sai." in helped
    assert "Usage" not in helped and "Show this message" not in helped
    missing = run(db, "lead", "add", code=2, **env).one_line_error()
    assert missing == "crm lead add: erro: Falta o argumento 'NAME'. (veja --help)"
    typo = run(db, "led", code=2, **env).one_line_error()
    assert "'lead'" in typo and "Did you mean" not in typo and "erro" in typo
    english = run(db, "lead", "-h", LANG="pt_BR.UTF-8", CRM_LANG="en").stdout
    assert english.startswith("Usage: crm lead [OPTIONS] COMMAND [ARGS]...")


def test_a_portuguese_session_shows_brazilian_money_dates_stages_and_local_times(
    tmp_path: Path,
) -> None:
    db = tmp_path / "crm.db"
    created = run(db, "lead", "add", "Maria Conceição", "--company", "Açaí Ltda",
                  "--budget", "R$ 1.234,56", "--timeline", "31/12/2027", "-q",
                  LANG="pt_BR.UTF-8", CRM_LANG="")  # fmt: skip
    line = created.stderr.splitlines()
    assert len(line) == 1 and str(db) in line[0] and "(moeda BRL;" in line[0], line
    shown = run(db, "lead", "show", "1", TZ="America/Sao_Paulo", **PT).stdout
    assert "1.234,56" in shown and "31/12/2027" in shown
    assert "07/12/2026 09:00" in shown  # created 12:00 UTC, shown in São Paulo's time
    stages = run(db, "stage", "list", **PT).stdout
    assert "Negociação" in stages and "Prospecção" in stages
    assert "Negotiation" not in stages


def test_json_and_csv_are_byte_identical_in_both_languages(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    run(db, "db", "init", "--currency", "BRL")
    run(db, "lead", "add", "Ana", "--company", "Açaí", "--budget", "12.500,00",
        "--timeline", "+30d", "-q")  # fmt: skip
    run(db, "lead", "qualify", "1")
    run(db, "lead", "convert", "1", "--amount", "12500")
    run(db, "activity", "add", "Ligar", "--opp", "1", "--due", "amanhã", "--type", "ligação")
    bad = tmp_path / "feira.csv"
    bad.write_text("name,email,budget\nBia,bia@x.com,€ 5\nCris,cris,10\n", encoding="utf-8")
    for args in (
        ["lead", "import", str(bad), "--dry-run", "--json"],
        ["lead", "list", "--json"],
        ["lead", "list", "--csv"],
        ["lead", "show", "1", "--json"],
        ["opp", "list", "--json"],
        ["opp", "list", "--csv"],
        ["account", "list", "--json"],
        ["contact", "list", "--json"],
        ["stage", "list", "--json"],
        ["activity", "list", "--json"],
        ["agenda", "--json"],
        ["pipeline", "report", "--json"],
        ["forecast", "--json"],
        ["report", "win-rate", "--json"],
        ["report", "conversion", "--json"],
        ["report", "velocity", "--json"],
        ["report", "stale", "--json"],
        ["history", "--json"],
        ["export", "--format", "json"],
    ):
        english = crm(*args, env=crm_env(db, CRM_NOW="2026-12-07T12:00:00", **EN))
        portuguese = crm(*args, env=crm_env(db, CRM_NOW="2026-12-07T12:00:00", **PT))
        assert english.code == portuguese.code, (args, english.stderr, portuguese.stderr)
        assert english.code in (0, 3), (args, english.stderr)  # 3: the import's bad rows
        assert english.stdout == portuguese.stdout, args
        assert english.stderr == "" or english.stderr != portuguese.stderr  # people read that


def test_names_match_without_accents(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    run(db, "db", "init", "--currency", "BRL", **PT)
    run(db, "lead", "add", "Maria Conceição", "--company", "Açaí", "-q")
    assert run(db, "lead", "list", "--search", "conceicao", "-q").stdout == "1\n"
    run(db, "opp", "add", "Site", "--account", "Açaí", "--amount", "100", "-q")
    assert '"name": "Açaí"' in run(db, "account", "show", "ACAI", "--json").stdout
    moved = run(db, "opp", "advance", "1", "--to", "negociacao", "--json").stdout
    assert '"stage": "Negociação"' in moved
    refused = run(db, "account", "add", "acai", code=1).one_line_error()
    assert "Açaí" in refused


def test_an_amount_in_another_currency_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    run(db, "db", "init", "--currency", "BRL")
    for amount in ("€ 10.000", "US$ 5,000", "EUR 3"):
        refused = run(db, "lead", "add", "Ana", "--budget", amount, code=1).one_line_error()
        assert "BRL" in refused and amount in refused
    run(db, "lead", "add", "Ana", "--budget", "R$ 10.000", "-q")
    run(db, "lead", "add", "Bia", "--budget", "$ 10.000", "-q")
    assert run(db, "lead", "list", "-q").stdout == "1\n2\n"


def test_db_init_changes_the_currency_only_while_no_amount_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    first = run(db, "lead", "list", LANG="C.UTF-8", CRM_LANG="", LC_MONETARY="")
    assert "(currency USD;" in first.stderr and str(db) in first.stderr
    changed = run(db, "db", "init", "--currency", "BRL")
    assert "currency changed from USD to BRL" in changed.stderr
    run(db, "lead", "add", "Ana", "--budget", "10", "-q")
    refused = run(db, "db", "init", "--currency", "EUR", code=1).one_line_error()
    assert "crm export --format json" in refused and "BRL" in refused


def test_shell_completion_answers_through_the_completion_protocol(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    script = run(db, "completion", "bash").stdout
    assert "_CRM_COMPLETE=complete_bash" in script
    commands = run(db, _CRM_COMPLETE="complete_bash", COMP_WORDS="crm le", COMP_CWORD="1")
    assert commands.stdout.split() == ["lead"]
    options = run(db, _CRM_COMPLETE="complete_bash", COMP_WORDS="crm lead list --so",
                  COMP_CWORD="3")  # fmt: skip
    assert "--source" in options.stdout.split()
    assert not db.exists()  # completing never creates a database
    run(db, "db", "init", "--currency", "BRL", **PT)
    stages = run(db, _CRM_COMPLETE="complete_bash", COMP_WORDS="crm opp advance 1 --to neg",
                 COMP_CWORD="5")  # fmt: skip
    assert stages.stdout.split() == ["Negociação"]
    types = run(db, _CRM_COMPLETE="complete_fish", _TYPER_COMPLETE_FISH_ACTION="get-args",
                _TYPER_COMPLETE_ARGS="crm activity add x --type ")  # fmt: skip
    assert [line.split("\t")[0] for line in types.stdout.splitlines()] == [
        "call", "meeting", "email", "task", "note"
    ]  # fmt: skip


def test_every_write_command_prints_the_same_json_in_both_languages(tmp_path: Path) -> None:
    """The same commands on two copies of one database, one in each language."""
    import shutil

    first = tmp_path / "en.db"
    run(first, "db", "init", "--currency", "BRL")
    second = tmp_path / "pt.db"
    shutil.copyfile(first, second)
    bad = tmp_path / "feira.csv"
    bad.write_text("name,email,budget\nBia,bia@x.com,5\nCris,cris,10\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text("name,account,amount,stage\nSite,Acme,10,Proposal\n", encoding="utf-8")
    steps = [
        ["lead", "add", "Ana", "--company", "Acme", "--budget", "R$ 1.234,56",
         "--timeline", "+30d", "--json"],
        ["lead", "add", "Ana Souza", "--company", "Acme", "--json"],
        ["lead", "edit", "2", "--phone", "11 98765-4321", "--json"],
        ["lead", "qualify", "1", "--json"],
        ["lead", "convert", "1", "--dry-run", "--json"],
        ["lead", "convert", "1", "--json"],
        ["lead", "import", str(bad), "--json"],
        ["opp", "import", str(deals), "--json"],
        ["opp", "add", "Renovação", "--account", "Acme", "--amount", "500", "--json"],
        ["opp", "advance", "3", "--to", "proposal", "--json"],
        ["opp", "win", "3", "--json"],
        ["opp", "lose", "2", "--reason", "price", "--json"],
        ["opp", "reopen", "2", "--json"],
        ["account", "add", "Açaí", "--json"],
        ["contact", "add", "Bruno", "--account", "acai", "--json"],
        ["stage", "add", "Contract", "--probability", "90", "--json"],
        ["activity", "add", "Ligar", "--opp", "1", "--type", "ligação", "--due", "amanhã",
         "--json"],
        ["activity", "done", "1", "--json"],
        ["lead", "disqualify", "3", "--reason", "sem verba", "--json"],
        ["lead", "merge", "2", "3", "--dry-run", "--json"],
        ["duplicates", "--json"],
        ["undo", "--dry-run", "--json"],
        ["undo", "--yes", "--json"],
        ["contact", "delete", "2", "--yes", "--json"],
        ["history", "--json"],
        ["db", "check", "--json"],
    ]  # fmt: skip
    for args in steps:
        english = crm(*args, env=crm_env(first, CRM_NOW="2026-12-07T12:00:00", **EN))
        portuguese = crm(*args, env=crm_env(second, CRM_NOW="2026-12-07T12:00:00", **PT))
        assert english.code == portuguese.code, (args, english.stderr, portuguese.stderr)
        assert english.code in (0, 3), (args, english.stderr)
        shown = english.stdout.replace(str(first), str(second))  # db check names the file
        assert shown == portuguese.stdout, args
