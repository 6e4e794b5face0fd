"""The hand-drawn piped table is exactly what Rich draws, or it steps aside for Rich."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcli.cli import render

cell = st.text(alphabet=st.sampled_from("abcXYZ 019,.-_()ãçéÍõü€R$"), max_size=14)


def rich_text(
    rows: list[list[str]], headers: list[str], title: str | None, right: list[int]
) -> str:
    """What Rich prints for the same table when stdout is not a terminal."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render, "plain_table", lambda *a, **k: None)
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            render.print_table(rows, headers, title=title, right=right)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    ncols=st.integers(min_value=1, max_value=6),
    nrows=st.integers(min_value=0, max_value=5),
)
def test_plain_table_matches_rich(data: st.DataObject, ncols: int, nrows: int) -> None:
    headers = data.draw(st.lists(cell.filter(str.strip), min_size=ncols, max_size=ncols))
    rows = data.draw(st.lists(st.lists(cell, min_size=ncols, max_size=ncols), max_size=nrows))
    right = data.draw(st.lists(st.integers(0, ncols - 1), max_size=ncols, unique=True))
    title = data.draw(st.none() | st.text(alphabet="Pipeline ()", min_size=1, max_size=10))
    plain = render.plain_table(rows, headers, title=title, right=right)
    if plain is None:
        return
    assert plain == rich_text(rows, headers, title, right)


def test_plain_table_steps_aside_for_wide_and_control_characters() -> None:
    assert render.plain_table([["東京"]], ["city"]) is None
    assert render.plain_table([["a\tb"]], ["x"]) is None
    assert render.plain_table([["e\u0301"]], ["x"]) is None
    assert render.plain_table([["x" * 300]], ["x"]) is None
    assert render.plain_table([["Ana"]], ["name"]) == "name\nAna\n"


def _printed(call: Callable[[], None]) -> str:
    """What `call` writes on a stdout that is not a terminal."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call()
    return out.getvalue()


any_cell = cell | st.sampled_from(["東京", "a\tb", "e\u0301", "x" * 300, "a\nb", "\x1b[31m", ""])


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    ncols=st.integers(min_value=1, max_value=5),
    nrows=st.integers(min_value=0, max_value=6),
)
def test_rows_written_as_they_come_are_the_table_print_table_draws(
    data: st.DataObject, ncols: int, nrows: int
) -> None:
    """`print_rows` (a list of any length, read once, spooled) prints exactly `print_table`'s
    piped text, whether it lays the table out itself or steps aside for Rich."""
    headers = data.draw(st.lists(cell.filter(str.strip), min_size=ncols, max_size=ncols))
    rows = data.draw(st.lists(st.lists(any_cell, min_size=ncols, max_size=ncols), max_size=nrows))
    right = data.draw(st.lists(st.integers(0, ncols - 1), max_size=ncols, unique=True))
    title = data.draw(st.none() | st.text(alphabet="Stale ()", min_size=1, max_size=10))
    footer = data.draw(st.none() | st.lists(cell, min_size=ncols, max_size=ncols))
    whole = _printed(
        lambda: render.print_table(rows, headers, title=title, right=right, footer=footer)
    )
    streamed = _printed(
        lambda: render.print_rows(iter(rows), headers, title=title, right=right, footer=footer)
    )
    assert streamed == whole


@pytest.mark.parametrize(
    "value",
    [
        [],
        [{"id": 1, "name": "Açaí", "amount": Decimal("1.50")}, {"id": 2, "name": None}],
        {"deals": [], "total": {"count": 0}, "as_of": date(2026, 12, 7)},
        {"deals": [{"id": 3, "day": date(2026, 1, 2)}], "total": {"count": 1}, "owner": "ana"},
    ],
)
def test_json_written_as_it_comes_is_print_json_s(value: object) -> None:
    whole = _printed(lambda: render.print_json(value))
    if isinstance(value, list):
        lazy: object = iter(value)
    else:
        assert isinstance(value, dict)
        lazy = {k: iter(v) if isinstance(v, list) else v for k, v in value.items()}
    assert _printed(lambda: render.print_json_streamed(lazy)) == whole
    json.loads(whole)
