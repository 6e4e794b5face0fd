"""The journal keeps a bulk path's ids compactly and writes them as runs of consecutive ids."""

from __future__ import annotations

from array import array
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from crmcli.store.repos.journal import ranges


def test_ascending_ids_become_runs() -> None:
    assert ranges([1, 2, 3, 7, 8, 10]) == [(1, 3), (7, 8), (10, 10)]
    assert ranges(array("q", range(5, 1_000_005))) == [(5, 1_000_004)]
    assert ranges([]) == []


def test_ids_in_any_order_or_repeated_are_sorted_first() -> None:
    assert ranges([7, 1, 3, 2, 8]) == [(1, 3), (7, 8)]
    assert ranges(array("q", [4, 4, 5])) == [(4, 5)]


@given(st.lists(st.integers(min_value=1, max_value=200), max_size=60))
def test_runs_hold_exactly_the_ids(ids: list[int]) -> None:
    runs = ranges(ids)
    assert sorted({i for first, last in runs for i in range(first, last + 1)}) == sorted(set(ids))
    assert all(a[1] + 1 < b[0] for a, b in pairwise(runs))  # apart, in order
