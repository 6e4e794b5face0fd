"""Matching a file's column headers to record fields.

Headers are compared after `normalise_header` (trimmed, accents removed, case-folded, runs of
punctuation and spaces collapsed), against English and Portuguese aliases and the headers of
Salesforce, HubSpot, Pipedrive and RD Station exports. ``--map 'Header=field'`` overrides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from crmcli.domain.values import clean_text
from crmcli.errors import ValidationError
from crmcli.i18n import _

__all__ = [
    "CRM_LEAD_COLUMNS",
    "IGNORE",
    "LEAD_ALIASES",
    "LEAD_FIELDS",
    "NAME_PARTS",
    "OPP_ALIASES",
    "OPP_FIELDS",
    "Mapping",
    "and_list",
    "build_mapping",
    "check_headers",
    "column_key",
    "normalise_header",
    "parse_map_options",
    "suggest_field",
]

_NON_ALNUM = re.compile(r"[\W_]+")
_E_MAIL = re.compile(r"\be mail\b")

IGNORE = "-"
"""The override target that keeps a column as an extra column: ``--map 'Mobile=-'``."""

NAME_PARTS = ("first_name", "last_name")
"""Pseudo-fields joined into ``name`` ("First Last") when the file has no full-name column."""

LEAD_FIELDS = (
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
    "tags",
    *NAME_PARTS,
)
"""The fields a lead column may feed (`NAME_PARTS` included)."""

OPP_FIELDS = (
    "name",
    "account",
    "contact_email",
    "amount",
    "probability",
    "stage",
    "expected_close",
    "owner",
    "status",
)
"""The fields an opportunity column may feed."""


def normalise_header(h: str) -> str:
    """Return the comparison key of a header: ``" Razão  Social "`` -> ``"razao social"``.

    Trimmed, NFKD with combining marks dropped (accents removed), case-folded, and every run of
    characters that are not letters or digits collapsed to one space. "e-mail" and "e mail"
    become "email" wherever they stand, so "E-mail do contato" matches "email do contato".
    """
    decomposed = unicodedata.normalize("NFKD", h.strip())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    key = _NON_ALNUM.sub(" ", stripped.casefold()).strip()
    return _E_MAIL.sub("email", key)


def _aliases(table: dict[str, Iterable[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, names in table.items():
        for name in names:
            key = normalise_header(name)
            if key in out and out[key] != field:  # pragma: no cover - guards the tables below
                raise AssertionError(f"alias {name!r} for both {out[key]} and {field}")
            out[key] = field
    return out


LEAD_ALIASES: dict[str, str] = _aliases(
    {
        "name": [
            "name",
            "nome",
            "contato",
            "contact",
            "contact name",
            "nome do contato",
            "full name",
            "nome completo",
            "lead name",
            "nome do lead",
            "pessoa",
            "lead",
            "person name",
            "person",
        ],
        "first_name": [
            "first name",
            "firstname",
            "first",
            "primeiro nome",
            "given name",
            "prenome",
        ],
        "last_name": [
            "last name",
            "lastname",
            "last",
            "sobrenome",
            "ultimo nome",
            "surname",
            "family name",
        ],
        "email": [
            "email",
            "e-mail",
            "e mail",
            "email address",
            "e-mail address",
            "endereco de email",
            "endereco de e-mail",
            "email do lead",
            "email do contato",
            "primary email",
            "email principal",
            "email (work)",
            "work email",
            "person email",
        ],
        "phone": [
            "phone",
            "telefone",
            "fone",
            "tel",
            "celular",
            "mobile",
            "phone number",
            "mobile phone",
            "mobile phone number",
            "numero de telefone",
            "telefone celular",
            "whatsapp",
            "phone (work)",
            "work phone",
            "person phone",
        ],
        "company": [
            "company",
            "empresa",
            "company name",
            "nome da empresa",
            "razao social",
            "organization",
            "organisation",
            "organizacao",
            "organization name",
            "account name",
            "account",
            "conta",
            "company account",
        ],
        "title": ["title", "cargo", "job title", "position", "posicao", "funcao", "role"],
        "source": [
            "source",
            "origem",
            "lead source",
            "fonte",
            "origem do lead",
            "original source",
            "canal",
            "channel",
            "primeira conversao",
            "origem da primeira conversao",
        ],
        "budget": [
            "budget",
            "orcamento",
            "valor",
            "amount",
            "deal value",
            "valor do negocio",
            "valor estimado",
            "annual revenue",
        ],
        "timeline": [
            "timeline",
            "prazo",
            "data",
            "decision date",
            "data de decisao",
            "close date",
            "expected close date",
            "data prevista",
        ],
        "owner": [
            "owner",
            "responsavel",
            "lead owner",
            "contact owner",
            "dono",
            "dono do lead",
            "vendedor",
            "sales rep",
            "person owner",
        ],
        "notes": [
            "notes",
            "note",
            "observacoes",
            "observacao",
            "obs",
            "notas",
            "comments",
            "comentarios",
            "description",
            "descricao",
        ],
        "tags": ["tags", "tag", "etiquetas", "etiqueta", "marcadores", "labels"],
    }
)
"""Normalised header -> lead field (`NAME_PARTS` included)."""

OPP_ALIASES: dict[str, str] = _aliases(
    {
        "name": [
            "name",
            "nome",
            "opportunity",
            "opportunity name",
            "oportunidade",
            "deal",
            "deal name",
            "negocio",
            "nome do negocio",
            "titulo",
            "title",
        ],
        "account": [
            "account",
            "account name",
            "conta",
            "empresa",
            "company",
            "company name",
            "organization",
            "organizacao",
            "cliente",
            "customer",
        ],
        "contact_email": [
            "contact email",
            "email do contato",
            "email",
            "e-mail",
            "email address",
        ],
        "amount": ["amount", "valor", "value", "deal value", "montante", "valor do negocio"],
        "probability": ["probability", "probability (%)", "probabilidade", "chance"],
        "stage": ["stage", "etapa", "estagio", "fase", "pipeline stage", "deal stage"],
        "expected_close": [
            "close date",
            "expected close",
            "expected close date",
            "data de fechamento",
            "previsao de fechamento",
            "fechamento",
        ],
        "owner": ["owner", "responsavel", "deal owner", "opportunity owner", "vendedor"],
        "status": ["status", "situacao"],
    }
)
"""Normalised header -> opportunity field."""

_SECONDARY = frozenset(
    normalise_header(h)
    for h in (
        "mobile",
        "celular",
        "mobile phone",
        "mobile phone number",
        "telefone celular",
        "whatsapp",
        "account",
        "conta",
        "data",
        "valor",
        "amount",
        "annual revenue",
        "title",
        "titulo",
        "obs",
        "note",
        "lead",
        "contact",
        "first",
        "last",
    )
)
"""Aliases that give way, without an error, when another column claims the same field."""

_FULL_NAME_OR_FIRST = frozenset({"nome", "name"})
"""Headers meaning the full name, or the first name when a last-name column is present."""


CRM_LEAD_COLUMNS = frozenset(
    normalise_header(h)
    for h in (
        "id",
        "status",
        "disqualify_reason",
        "contact_id",
        "account_id",
        "opportunity_id",
        "created_at",
        "updated_at",
    )
)
"""Columns of crm's own lead CSV (`lead list --csv`, `export --format csv --entity leads`) that
an import does not set: the database gives a new lead its id, status, links and times."""

_CRM_LEAD_SIGNATURE = frozenset(
    normalise_header(h) for h in ("id", "contact_id", "account_id", "opportunity_id")
)
"""Headers that together say a file is crm's own lead CSV."""

_STOP_WORDS = frozenset(
    {"a", "o", "e", "de", "da", "do", "das", "dos", "em", "para", "of", "the", "and", "in", "for"}
)


@dataclass(frozen=True)
class Mapping:
    """Which field each column feeds: ``fields[i]`` is None for a column kept as an extra.

    `ignored` are crm's own columns of a file crm wrote (`CRM_LEAD_COLUMNS`), not imported at
    all; `kept` the columns ``--map 'Header=-'`` keeps as extras on purpose; `stored_extras`
    the ``extras`` column of a file crm wrote (a JSON object: the lead's extras, restored).
    """

    headers: tuple[str, ...]
    fields: tuple[str | None, ...]
    ignored: frozenset[int] = frozenset()
    kept: frozenset[int] = frozenset()
    stored_extras: int | None = None

    def column(self, field: str) -> int | None:
        """Return the index of the column that feeds `field`, or None."""
        return self._columns.get(field)

    @cached_property
    def _columns(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, fed in enumerate(self.fields):
            if fed is not None:
                found.setdefault(fed, index)
        return found

    @cached_property
    def extras(self) -> tuple[int, ...]:
        """The indexes of the columns that feed no field (kept verbatim under their header)."""
        return tuple(
            i
            for i, fed in enumerate(self.fields)
            if fed is None and i not in self.ignored and i != self.stored_extras
        )

    def fed(self) -> dict[str, str]:
        """{column: field} for every column that feeds a field, in file order; a column
        without a header is ``column N`` (as among a lead's extras)."""
        return {
            column_key(self.headers, i): "extras" if fed is None else fed
            for i, fed in enumerate(self.fields)
            if fed is not None or i == self.stored_extras
        }

    def unmapped(self) -> list[str]:
        """The columns that feed no field (``column N`` without a header), in file order."""
        return [column_key(self.headers, i) for i in self.extras]

    def unignored(self) -> list[str]:
        """crm's own columns that are not imported (`ignored`), in file order."""
        return [column_key(self.headers, i) for i in sorted(self.ignored)]

    def suggestions(self, aliases: dict[str, str], allowed: Iterable[str]) -> dict[str, str | None]:
        """{column: the field it most likely means, or None} for each unmapped column with a
        header (``--map`` needs one) and not kept on purpose, for a ``--map`` hint; a field
        is suggested once, for the first column that may mean it."""
        taken = {f for f in self.fields if f is not None}
        if "name" in taken:
            taken.update(NAME_PARTS)
        fields = set(allowed) - taken
        found: dict[str, str | None] = {}
        for i in self.extras:
            if i in self.kept or not self.headers[i].strip():
                continue
            field = suggest_field(self.headers[i], aliases, fields)
            found[self.headers[i]] = field
            fields.discard(field or "")
        return found


def column_key(headers: Sequence[str], index: int) -> str:
    """How a column is named in stored data and JSON: its header, else ``column N`` (always
    English)."""
    header = headers[index] if index < len(headers) else ""
    return header if header.strip() else f"column {index + 1}"


def suggest_field(header: str, aliases: dict[str, str], fields: Iterable[str]) -> str | None:
    """The field among `fields` an unrecognised header most likely means, or None.

    A header whose words hold every word of an alias (``Prazo de decisão`` holds ``prazo``),
    or an alias that holds every word of the header (``close`` in ``close date``); the alias
    sharing the most words wins. Small words (``de``, ``of``) are not counted.
    """
    wanted = set(fields)
    words = set(normalise_header(header).split()) - _STOP_WORDS
    if not words:
        return None
    best, best_score = None, 0
    for alias, field in aliases.items():
        if field not in wanted:
            continue
        alias_words = set(alias.split()) - _STOP_WORDS
        if alias_words and (alias_words <= words or words <= alias_words):
            score = len(alias_words & words)
            if score > best_score:
                best, best_score = field, score
    return best


def parse_map_options(options: Sequence[str]) -> dict[str, str]:
    """Parse ``--map 'Header=field'`` options into {header: field} (field lower-cased).

    The last ``=`` separates the two, so a header may itself contain ``=``. A field of ``-``
    keeps the column as an extra column.
    """
    out: dict[str, str] = {}
    for option in options:
        header, sep, field = option.rpartition("=")
        header, field = header.strip(), field.strip().lower()
        if not sep or not header or not field:
            raise ValidationError(
                _('--map: "{option}" is not of the form Header=field').format(option=option)
            )
        key = normalise_header(header)
        for other in out:
            if normalise_header(other) == key:
                raise ValidationError(
                    _('--map: header "{header}" is mapped twice').format(header=header)
                )
        out[header] = field
    return out


def and_list(items: Sequence[str]) -> str:
    """``a and b and c`` in the interface language (for a message)."""
    text = items[0] if items else ""
    for item in items[1:]:
        text = _("{left} and {right}").format(left=text, right=item)
    return text


def _label(header: str, index: int) -> str:
    return f'"{header}"' if header.strip() else _("column {number}").format(number=index + 1)


def check_headers(headers: Sequence[str]) -> None:
    """Refuse the file when a header holds a control character (ESC, NUL, BEL...).

    Headers become the keys of a lead's extras, shown by `lead show`: they go through
    `clean_text`, the cleaner of every other text, so a shared file cannot carry escape
    sequences into anyone's terminal. The whole file is refused (one line naming the column):
    a header is not data to skip row by row.
    """
    for index, header in enumerate(headers):
        if not header.isprintable():  # rare: only then ask the cleaner
            clean_text(header, field=_("header of column {number}").format(number=index + 1))


def build_mapping(
    headers: Sequence[str],
    aliases: dict[str, str],
    *,
    overrides: dict[str, str] | None = None,
    allowed_fields: Iterable[str],
) -> Mapping:
    """Decide which field each column feeds.

    Overrides (``{header: field}``, matched by normalised header) come first; the other columns
    are looked up in `aliases`. A field claimed by two columns is refused naming both headers,
    unless exactly one of them is an explicit override or a primary alias (``Telefone`` beats
    ``Celular``): the other is then kept as an extra. ``first_name``/``last_name`` are used only
    when no column gives the full name; ``Nome`` next to ``Sobrenome`` is the first name.
    """
    check_headers(headers)
    allowed = set(allowed_fields)
    keys = [normalise_header(h) for h in headers]
    fields: list[str | None] = [None] * len(headers)
    # Strength: 3 = override, 2 = primary alias, 1 = secondary alias.
    strength = [0] * len(headers)
    overridden: set[int] = set()
    for header, field in (overrides or {}).items():
        if field != IGNORE and field not in allowed:
            raise ValidationError(
                _('--map: "{field}" is not a field (use one of {fields} or -)').format(
                    field=field, fields=", ".join(sorted(allowed))
                )
            )
        key = normalise_header(header)
        matches = [i for i, k in enumerate(keys) if k == key and key]
        if not matches:
            raise ValidationError(
                _('--map: the file has no column "{header}"').format(header=header)
            )
        for i in matches:
            overridden.add(i)
            if field != IGNORE:
                fields[i], strength[i] = field, 3
    for i, key in enumerate(keys):
        if i in overridden or not key:
            continue
        aliased = aliases.get(key)
        if aliased is not None and aliased in allowed:
            fields[i], strength[i] = aliased, 1 if key in _SECONDARY else 2

    # "Nome" + "Sobrenome": the lone "Nome" is the first name.
    has_last = "last_name" in fields
    if has_last and "first_name" not in fields and "first_name" in allowed:
        for i, key in enumerate(keys):
            if fields[i] == "name" and strength[i] < 3 and key in _FULL_NAME_OR_FIRST:
                fields[i] = "first_name"

    by_field: dict[str, list[int]] = {}
    for i, fed in enumerate(fields):
        if fed is not None:
            by_field.setdefault(fed, []).append(i)
    for field, columns in by_field.items():
        if len(columns) < 2:
            continue
        best = max(strength[i] for i in columns)
        winners = [i for i in columns if strength[i] == best]
        if len(winners) > 1:
            names = and_list([_label(headers[i], i) for i in winners])
            raise ValidationError(
                _(
                    "columns {columns} both feed {field}: use --map 'Header=-' to keep one as an"
                    " extra column"
                ).format(columns=names, field=field)
            )
        for i in columns:
            if i != winners[0]:
                fields[i] = None

    if "name" in fields:  # a full name wins over its parts, which are kept as extras
        fields = [None if f in NAME_PARTS else f for f in fields]
    ignored: set[int] = set()
    if "email" in allowed and set(keys) >= _CRM_LEAD_SIGNATURE:  # crm's own lead CSV
        ignored = {
            i
            for i, key in enumerate(keys)
            if key in CRM_LEAD_COLUMNS and fields[i] is None and i not in overridden
        }
    stored_extras = None
    if ignored:
        stored_extras = next(
            (i for i, k in enumerate(keys) if k == "extras" and fields[i] is None), None
        )
    kept = frozenset(i for i in overridden if fields[i] is None)
    return Mapping(
        headers=tuple(headers),
        fields=tuple(fields),
        ignored=frozenset(ignored),
        kept=kept,
        stored_extras=stored_extras,
    )
