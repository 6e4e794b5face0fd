"""The message lookup: English by default, Portuguese on request, English kept for machines."""

from __future__ import annotations

import json

import pytest

from crmcli import i18n
from crmcli.errors import ValidationError
from crmcli.i18n import _, english_of, ngettext
from crmcli.jsondata import jsonable


@pytest.fixture
def portuguese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_LANG", "pt_BR")
    i18n.reset()


def test_english_is_the_text_itself() -> None:
    message = _("the schema is up to date")
    assert message == "the schema is up to date" and type(message) is str
    assert ngettext("{count} problem", "{count} problems", 2) == "{count} problems"


@pytest.mark.usefixtures("portuguese")
def test_a_portuguese_message_keeps_its_english_through_format_and_exceptions() -> None:
    reason = _("is not an amount")
    line = _("{field}: {value} {reason}").format(field="budget", value='"x"', reason=reason)
    assert line == 'budget: "x" não é um valor'
    assert english_of(line) == 'budget: "x" is not an amount'
    error = ValidationError(line)
    assert english_of(str(error)) == 'budget: "x" is not an amount'
    assert (
        json.dumps(jsonable({"reason": str(error)}))
        == '{"reason": "budget: \\"x\\" is not an amount"}'
    )
    assert ngettext("{count} activity", "{count} activities", 1).format(count=1) == "1 atividade"
    assert ngettext("{count} activity", "{count} activities", 3).format(count=3) == "3 atividades"
    assert (
        english_of(ngettext("{count} activity", "{count} activities", 3).format(count=3))
        == "3 activities"
    )


def test_reset_reads_the_environment_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_LANG", "pt")
    i18n.reset()
    assert i18n.portuguese() and _("yes") == "sim"
    monkeypatch.setenv("CRM_LANG", "en")
    i18n.reset()
    assert not i18n.portuguese() and _("yes") == "yes"


def test_the_catalog_reader_agrees_with_the_stdlib_gettext() -> None:
    """`read_mo` (fast) gives every message and plural form `GNUTranslations` gives."""
    import gettext

    path = i18n.LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / "crmcli.mo"
    with path.open("rb") as file:
        stdlib = gettext.GNUTranslations(file)
    ours = i18n.read_mo(path.read_bytes())
    assert len(ours) > 700
    for key, value in ours.items():
        if isinstance(value, tuple):
            for count in (0, 1, 2, 1000):
                form = value[i18n.PLURAL_FORM["pt_BR"](count)]
                assert stdlib.ngettext(key, key + "s", count) == form, (key, count)
        else:
            assert stdlib.gettext(key) == value, key
    assert "plural=(n > 1)" in stdlib.info()["plural-forms"]
    with pytest.raises(ValueError):
        i18n.read_mo(b"not a catalog at all")
