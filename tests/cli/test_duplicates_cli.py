"""`crm duplicates` (issue 13): groups of likely duplicate leads, contacts and accounts, found by
stored keys whatever the formatting, each with the merge command that would join them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

PHONES = [
    "+55 (11) 98765-4321",
    "55 11 98765 4321",
    "(11) 98765-4321",
    "011 98765-4321",
    "+5511987654321",
]


def _add(crm: Run, *args: str) -> int:
    return int(crm(*args, "-q").stdout)


def _groups(crm_json: Json, *args: str) -> list[tuple[str, list[int], str]]:
    return [(g["entity"], g["ids"], g["reason"]) for g in crm_json(*args)]


def test_an_empty_database_has_no_duplicates(crm: Run, crm_json: Json) -> None:
    assert crm("duplicates").stdout == "No likely duplicates.\n"
    assert crm_json("duplicates") == []


def test_one_phone_written_five_ways_is_one_group_oldest_first(crm: Run, crm_json: Json) -> None:
    ids = [_add(crm, "lead", "add", f"Person {n}", "--phone", p) for n, p in enumerate(PHONES)]
    _add(crm, "lead", "add", "Someone else", "--phone", "(11) 98765-4322")
    _add(crm, "lead", "add", "No phone")
    assert _groups(crm_json, "duplicates") == [("lead", ids, "phone")]
    [group] = crm_json("duplicates", "--entity", "lead")
    assert group["merge"] == "crm lead merge " + " ".join(map(str, ids))
    assert group["keep"] == ids[0]
    assert group["names"] == [f"Person {n}" for n in range(5)]


def test_names_match_across_accents_case_and_company_suffixes(crm: Run, crm_json: Json) -> None:
    first = _add(crm, "lead", "add", "João D'Ávila", "--company", "Construtora Horizonte Ltda")
    second = _add(crm, "lead", "add", "JOAO DAVILA", "--company", "construtora horizonte S/A")
    third = _add(crm, "lead", "add", "joão  d'ávila", "--company", "Construtora Horizonte")
    # the same name at another company, another name at the same company, no company: apart
    _add(crm, "lead", "add", "João D'Ávila", "--company", "Construtora Horizontal")
    _add(crm, "lead", "add", "Joana D'Ávila", "--company", "Construtora Horizonte Ltda")
    _add(crm, "lead", "add", "Ana Souza")
    _add(crm, "lead", "add", "Ana Souza")
    assert _groups(crm_json, "duplicates") == [("lead", [first, second, third], "name")]
    table = crm("duplicates").stdout
    assert "same name and company" in table and f"crm lead merge {first} {second} {third}" in table


def test_accounts_group_without_their_legal_suffixes(crm: Run, crm_json: Json) -> None:
    names = ["Construtora Horizonte Ltda", "CONSTRUTORA HORIZONTE S.A.", "Construtora Horizonte"]
    ids = [_add(crm, "account", "add", n) for n in names]
    _add(crm, "account", "add", "Construtora Horizonte Sul Ltda")
    _add(crm, "account", "add", "Ltda")  # a name made only of a suffix is itself
    globex = _add(crm, "account", "add", "Globex Inc.", "--phone", "+1 (415) 555-0134")
    initech = _add(crm, "account", "add", "Initech LLC", "--phone", "415.555.0134")
    assert _groups(crm_json, "duplicates", "--entity", "account") == [
        ("account", ids, "name"),
        ("account", [globex, initech], "phone"),
    ]


def test_contacts_group_by_name_within_one_account_and_by_phone(crm: Run, crm_json: Json) -> None:
    acme = _add(crm, "account", "add", "Acme")
    globex = _add(crm, "account", "add", "Globex")
    one = _add(crm, "contact", "add", "Maria Conceição", "--account", str(acme))
    two = _add(crm, "contact", "add", "MARIA CONCEICAO", "--account", str(acme))
    _add(crm, "contact", "add", "Maria Conceição", "--account", str(globex))  # another company
    _add(crm, "contact", "add", "Maria Conceição")  # no account: not grouped by name
    three = _add(crm, "contact", "add", "Bia", "--phone", "(21) 3456-7890")
    four = _add(crm, "contact", "add", "Beatriz", "--phone", "+55 21 3456 7890")
    assert _groups(crm_json, "duplicates", "--entity", "contact") == [
        ("contact", [one, two], "name"),
        ("contact", [three, four], "phone"),
    ]
    assert crm("duplicates", "--entity", "lead").stdout == "No likely duplicates.\n"


def test_a_group_for_several_reasons_lists_each_once(crm: Run, crm_json: Json) -> None:
    a = _add(crm, "lead", "add", "Ana Souza", "--company", "Acme", "--phone", PHONES[0])
    b = _add(crm, "lead", "add", "ana souza", "--company", "ACME LTDA", "--phone", PHONES[3])
    c = _add(crm, "lead", "add", "Bruno Lima", "--company", "Acme", "--phone", "(21) 3456-7890")
    d = _add(crm, "lead", "add", "Ana Souza", "--company", "Globex", "--phone", "213456-7890")
    found = crm_json("duplicates")
    assert [(g["ids"], g["reason"], g["reasons"]) for g in found] == [
        ([a, b], "phone, name", ["phone", "name"]),
        ([c, d], "phone", ["phone"]),
    ]
    # overlapping groups stay apart: c also shares Ana's name and company now
    crm("lead", "edit", str(c), "--name", "ANA SOUZA")
    found = crm_json("duplicates")
    assert [(g["ids"], g["reasons"]) for g in found] == [
        ([a, b], ["phone"]),
        ([a, b, c], ["name"]),
        ([c, d], ["phone"]),
    ]


def test_the_json_shape_and_the_entity_filter(crm: Run, crm_json: Json) -> None:
    _add(crm, "lead", "add", "Lead One", "--phone", PHONES[0])
    _add(crm, "lead", "add", "Lead Two", "--phone", PHONES[1])
    _add(crm, "contact", "add", "Contact One", "--phone", PHONES[0])
    _add(crm, "contact", "add", "Contact Two", "--phone", PHONES[2])
    _add(crm, "account", "add", "Acme Ltda")
    _add(crm, "account", "add", "Acme S/A")
    found = crm_json("duplicates")
    assert [g["entity"] for g in found] == ["lead", "contact", "account"]
    for group in found:
        assert set(group) == {"entity", "ids", "reason", "reasons", "keep", "merge", "names"}
        assert group["merge"] == f"crm {group['entity']} merge 1 2"
        assert group["ids"] == [1, 2] and group["keep"] == 1
    for entity in ("lead", "contact", "account"):
        assert [g["entity"] for g in crm_json("duplicates", "--entity", entity)] == [entity]
    csv = crm("duplicates", "--csv").stdout.splitlines()
    assert csv[0] == "entity,ids,reason,merge"
    assert csv[1] == "lead,1 2,phone,crm lead merge 1 2"
    refused = crm("duplicates", "--entity", "opp", code=2)
    assert "Traceback" not in refused.output


def test_an_e_mail_in_another_case_is_refused_so_it_never_makes_a_duplicate(
    crm: Run, crm_json: Json
) -> None:
    _add(crm, "lead", "add", "Ana", "--email", "ana@example.com")
    crm("lead", "add", "Ana again", "--email", "ANA@Example.COM", code=1)
    _add(crm, "contact", "add", "Ana", "--email", "Ana@Example.com")
    crm("contact", "add", "Ana again", "--email", "ana@EXAMPLE.com", code=1)
    assert crm_json("duplicates") == []


def test_edits_keep_the_keys_in_step(crm: Run, crm_json: Json) -> None:
    a = _add(crm, "lead", "add", "Ana", "--phone", PHONES[0])
    b = _add(crm, "lead", "add", "Bia", "--phone", "(21) 3456-7890")
    assert crm_json("duplicates") == []
    crm("lead", "edit", str(b), "--phone", PHONES[4])
    assert _groups(crm_json, "duplicates") == [("lead", [a, b], "phone")]
    crm("lead", "edit", str(b), "--company", "Acme", "--name", "Ana")
    crm("lead", "edit", str(a), "--company", "ACME Ltda.")
    assert _groups(crm_json, "duplicates") == [("lead", [a, b], "phone, name")]
    crm("lead", "edit", str(a), "--phone", "", code=None)
    crm("lead", "edit", str(a), "--phone", "(31) 3456-7890")
    assert _groups(crm_json, "duplicates") == [("lead", [a, b], "name")]
    x = _add(crm, "account", "add", "Globex")
    y = _add(crm, "account", "add", "Initech")
    crm("account", "edit", str(y), "--name", "Globex Corp.")
    assert _groups(crm_json, "duplicates", "--entity", "account") == [("account", [x, y], "name")]


def test_imported_and_restored_records_get_their_keys(
    crm: Run, crm_json: Json, tmp_path: Path, new_database_url: Callable[[], str]
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "Nome;E-mail;Telefone;Empresa\n"
        "Ana Souza;ana@x.br;+55 (11) 98765-4321;Acme Ltda\n"
        "ANA SOUZA;ana2@x.br;011 98765-4321;ACME S.A.\n"
        "Bruno;bruno@x.br;(21) 3456-7890;Globex\n",
        encoding="utf-8",
    )
    crm("lead", "import", str(leads))
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "name,account,contact email,amount\nBig deal,Acme Ltda,joana@acme.br,10\n"
        "Other deal,ACME S/A,joana2@acme.br,20\n",
        encoding="utf-8",
    )
    crm("opp", "import", str(deals))
    expected = [("lead", [1, 2], "phone, name"), ("account", [1, 2], "name")]
    assert _groups(crm_json, "duplicates") == expected

    exported = tmp_path / "backup.json"
    crm("export", "--output", str(exported))
    json.loads(exported.read_text(encoding="utf-8"))
    target = new_database_url()
    crm("--db", target, "import", str(exported))
    assert _groups(crm_json, "--db", target, "duplicates") == expected
