"""`@record`: a frozen dataclass without code generated per class.

`dataclasses.dataclass(frozen=True)` compiles six methods for every class it decorates, about
1 ms a class; a command loads dozens of record classes, so that alone was a tenth of a
command's time. A record gets the same behaviour from shared methods instead: the same
`__init__` signature (positional or keyword, defaults and `field(default_factory=…)`), equality
and hash by its fields in order, a dataclass-style repr, assignment refused with
`dataclasses.FrozenInstanceError`, and real `__dataclass_fields__`, so `dataclasses.fields`,
`replace`, `asdict` and `is_dataclass` work on it unchanged. Type checkers see a frozen
dataclass (`typing.dataclass_transform`).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_Spec = tuple[tuple[str, ...], dict[str, Any], dict[str, Callable[[], Any]]]


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    names, defaults, factories = cls.__record__
    if len(args) > len(names):
        raise TypeError(
            f"{cls.__name__}() takes {len(names)} positional arguments but {len(args)} were given"
        )
    values = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in values:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {key!r}")
        if key not in cls.__dataclass_fields__:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {key!r}")
        values[key] = value
    if len(values) < len(names):
        for name in names:
            if name in values:
                continue
            if name in defaults:
                values[name] = defaults[name]
            elif name in factories:
                values[name] = factories[name]()
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
    self.__dict__.update(values)


def _values(self: Any) -> tuple[Any, ...]:
    state = self.__dict__
    return tuple(state[name] for name in type(self).__record__[0])


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    cls = type(self)
    shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in cls.__record__[0])
    return f"{cls.__qualname__}({shown})"


def _setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen record of its own annotated fields, in order (see the module).

    Fields of base classes are not collected: records do not inherit from records."""
    annotations = inspect.get_annotations(cls)
    fields: dict[str, dataclasses.Field[Any]] = {}
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, kind in annotations.items():
        if str(kind).startswith(("ClassVar", "typing.ClassVar")):
            continue
        declared = cls.__dict__.get(name, dataclasses.MISSING)
        if isinstance(declared, dataclasses.Field):
            spec = declared
            if not (spec.init and spec.repr and spec.compare) or spec.hash is not None:
                raise TypeError(f"{cls.__name__}.{name}: a record field is in init, repr and eq")
        elif declared is dataclasses.MISSING:
            spec = dataclasses.field()
        else:
            spec = dataclasses.field(default=declared)
        spec.name = name
        spec.type = kind
        spec._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # what fields() keeps
        if spec.default is not dataclasses.MISSING:
            defaults[name] = spec.default
            setattr(cls, name, spec.default)
        elif spec.default_factory is not dataclasses.MISSING:
            factories[name] = spec.default_factory
            if name in cls.__dict__:
                delattr(cls, name)
        elif defaults or factories:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        fields[name] = spec
    names = tuple(fields)
    attributes: dict[str, Any] = {
        "__record__": (names, defaults, factories),
        "__dataclass_fields__": fields,
        "__match_args__": names,
        "__init__": _init,
        "__eq__": _eq,
        "__hash__": _hash,
        "__repr__": _repr,
        "__setattr__": _setattr,
        "__delattr__": _delattr,
    }
    for attribute, value in attributes.items():
        setattr(cls, attribute, value)
    return cls
