"""`@record` behaves as `@dataclass(frozen=True)` does for everything crmcli uses."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from crmcli.domain.models import Lead, LeadStatus
from crmcli.domain.records import record


@record
class Point:
    """A record for the tests."""

    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Twin:
    """The same fields as a frozen dataclass, to compare with."""

    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


def test_construction_defaults_and_factories() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1, 2).y == 2 and Point(x=1, y=3).y == 3
    assert Point(1).tags is not Point(1).tags  # one list per record


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument: 'x'"),
        ((1, 2, [], 4), {}, "takes 3 positional arguments but 4 were given"),
        ((1,), {"x": 2}, "multiple values for argument 'x'"),
        ((1,), {"z": 2}, "unexpected keyword argument 'z'"),
    ],
)
def test_bad_construction_is_a_type_error(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type, misc]


def test_frozen_equal_hashable_and_repr_like_a_dataclass() -> None:
    p = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.y  # type: ignore[misc]
    assert p == Point(1, 2) and p != Point(2, 2) and p != (1, 2)
    assert hash(Point(1, 2, ("a",))) == hash(Point(1, 2, ("a",)))  # type: ignore[arg-type]
    assert repr(Point(1, 2)) == repr(Twin(1, 2)).replace("Twin", "Point")


def test_dataclasses_functions_work_on_records() -> None:
    p = Point(1, 2, ["a"])
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(p)] == [f.name for f in dataclasses.fields(Twin)]
    assert dataclasses.asdict(p) == dataclasses.asdict(Twin(1, 2, ["a"]))
    moved = dataclasses.replace(p, y=5)
    assert moved == Point(1, 5, ["a"]) and p.y == 2
    assert copy.copy(p) == p and copy.deepcopy(p) == p and pickle.loads(pickle.dumps(p)) == p
    assert Point.__match_args__ == ("x", "y", "tags")


def test_domain_records_are_records() -> None:
    lead = Lead(id=1, name="Ana")
    assert lead.status is LeadStatus.NEW and lead.extras == {}
    assert dataclasses.replace(lead, name="Bia").name == "Bia"


def test_field_options_a_record_does_not_honour_are_refused() -> None:
    with pytest.raises(TypeError, match="a record field is in init, repr and eq"):

        @record
        class Hidden:
            secret: str = dataclasses.field(default="", repr=False)
