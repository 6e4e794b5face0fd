"""The hand-drawn piped table is exactly what Rich draws, or it steps aside for Rich."""

from __future__ import annotations

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
