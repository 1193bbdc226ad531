"""The event contracts checked at C speed: msgspec shapes generated from the pydantic models.

The pydantic models stay the one declaration of every contract (and of the published JSON
Schemas).  ``shape_types`` walks a family's models, their fields, annotations and constraint
metadata, and builds one ``msgspec.Struct`` per model with the same types and bounds: strings
with their lengths and patterns, strict numbers with their ranges (finite, as
``allow_inf_nan=False`` asks), literals, aware timestamps, lists with their lengths, optional
fields with their defaults, nested models, and the union tagged on the discriminator.  What
msgspec cannot check (the ``AfterValidator`` functions, the models' ``after`` validators,
stripped whitespace) runs in Python on the decoded values, and the event is built as an
instance of the pydantic model without validating it again.

The fast path only ever accepts a subset of what pydantic accepts, with equal values: anything
msgspec refuses, or that it would read differently from pydantic (text with surrounding
whitespace, timestamps with more than six decimals, integers outside 64 bits, Unix times), is
given to pydantic, whose verdict and error are the answer.  A model that uses a feature the
generator does not translate raises ``Unsupported`` when its family's shapes are built.
"""
from __future__ import annotations

import inspect
import re
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import msgspec
import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, Strict, StringConstraints, TypeAdapter
from pydantic.fields import FieldInfo

#: what a post-check receives: the decoded value and the JSON value it came from
Post = Callable[[Any, Any], Any]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # msgspec's bounds; pydantic decides beyond them
FLOAT_MAX = sys.float_info.max  # finite: NaN and infinities fail the bounds
_LONG_FRACTION = re.compile(r"\.\d{7}")  # pydantic truncates past microseconds, msgspec rounds
_MISSING = object()
_NUMBER_BOUNDS = {at.Ge: "ge", at.Gt: "gt", at.Le: "le", at.Lt: "lt"}
_CONFIG = {"extra": {"ignore", "forbid"}, "frozen": {True, False}, "strict": {True}, "allow_inf_nan": {False},
           "str_strip_whitespace": {True, False}, "title": None}
_set = object.__setattr__


class Unsupported(TypeError):
    """A contract uses a pydantic feature that ``shape_types`` does not translate."""


class Refused(ValueError):
    """The fast path cannot vouch for a value: pydantic decides."""


# --- post-checks on decoded values --------------------------------------------------------------------


def _stripped(value: str, source: Any) -> str:
    """pydantic strips text before its checks: text that stripping would change goes to pydantic."""
    if value.strip() is not value:
        raise Refused
    return value


def _aware_time(value: datetime, source: Any) -> datetime:
    if source.__class__ is str and "." in source and _LONG_FRACTION.search(source):
        raise Refused
    return value


def _chain(*posts: Post | None) -> Post | None:
    posts = tuple(p for p in posts if p is not None)
    if not posts:
        return None
    if len(posts) == 1:
        return posts[0]

    def chained(value: Any, source: Any) -> Any:
        for post in posts:
            value = post(value, source)
        return value

    return chained


def _after(func: Callable[[Any], Any]) -> Post:
    params = [p for p in inspect.signature(func).parameters.values() if p.default is p.empty]
    if len(params) != 1:
        raise Unsupported(f"AfterValidator {func.__qualname__} takes validation info")

    def after(value: Any, source: Any) -> Any:
        return func(value)

    return after


def _optional(post: Post) -> Post:
    def optional(value: Any, source: Any) -> Any:
        return None if value is None else post(value, source)

    return optional


def _each(post: Post) -> Post:
    def each(values: list, sources: Any) -> list:
        return [post(v, s) for v, s in zip(values, sources)]

    return each


# --- the generator ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """A pydantic model and its msgspec struct, with what runs in Python after decoding."""

    model: type[BaseModel]
    struct: type[msgspec.Struct]
    tag: tuple[str, str] | None  # (discriminator field, its value)
    names: frozenset[str]
    posts: tuple[tuple[str, Post], ...]
    validators: tuple[Callable[[Any], Any], ...]

    def build(self, source: dict, decoded: msgspec.Struct) -> BaseModel:
        """The model instance of a decoded struct: post-checks, construction, model validators."""
        values = msgspec.structs.asdict(decoded)
        for name, post in self.posts:
            raw = source.get(name, _MISSING)
            if raw is not _MISSING and raw is not None:
                values[name] = post(values[name], raw)
        if self.tag is not None:
            values[self.tag[0]] = self.tag[1]
        model = self.model
        event = model.__new__(model)
        _set(event, "__dict__", values)
        _set(event, "__pydantic_fields_set__", self.names.intersection(source))
        _set(event, "__pydantic_extra__", None)
        _set(event, "__pydantic_private__", None)
        for validator in self.validators:
            if validator(event) is not event:
                raise Refused
        return event

    def nested(self, decoded: msgspec.Struct, source: dict) -> BaseModel:
        return self.build(source, decoded)


def _check_model(model: type[BaseModel]) -> None:
    for key, value in model.model_config.items():
        allowed = _CONFIG.get(key, ())
        if key not in _CONFIG or (allowed is not None and value not in allowed):
            raise Unsupported(f"{model.__name__}: model_config {key}={value!r}")
    decorators = model.__pydantic_decorators__
    for kind in ("validators", "field_validators", "root_validators"):
        if getattr(decorators, kind):
            raise Unsupported(f"{model.__name__}: {kind} {', '.join(getattr(decorators, kind))}")
    for name, dec in decorators.model_validators.items():
        if dec.info.mode != "after":
            raise Unsupported(f"{model.__name__}.{name}: a {dec.info.mode!r} model validator")
        if len(inspect.signature(dec.func).parameters) != 1:
            raise Unsupported(f"{model.__name__}.{name}: a model validator taking validation info")
    if model.__pydantic_post_init__ or model.__private_attributes__:
        raise Unsupported(f"{model.__name__}: model_post_init or private attributes")


def _check_field(owner: str, name: str, info: FieldInfo) -> None:
    if info.alias or info.validation_alias or info.discriminator or info.validate_default:
        raise Unsupported(f"{owner}.{name}: alias, discriminator or validate_default")
    if info.default_factory is not None:
        raise Unsupported(f"{owner}.{name}: default_factory")


def _constraints(owner: str, metadata: Sequence[Any], strip: bool) -> tuple[dict[str, Any], list[Post], bool, bool]:
    """msgspec ``Meta`` keywords, post-checks, whether text is stripped and timestamps lax."""
    meta: dict[str, Any] = {}
    posts: list[Post] = []
    lax = False
    for item in metadata:
        if isinstance(item, FieldInfo):
            if item.discriminator or item.alias or item.validation_alias:
                raise Unsupported(f"{owner}: a Field() with alias or discriminator inside Annotated")
            more, more_posts, strip, more_lax = _constraints(owner, item.metadata, strip)
            meta.update(more)
            posts += more_posts
            lax = lax or more_lax
        elif isinstance(item, StringConstraints):
            if item.to_upper or item.to_lower or item.ascii_only:
                raise Unsupported(f"{owner}: StringConstraints to_upper, to_lower or ascii_only")
            if item.strip_whitespace is not None:
                strip = item.strip_whitespace
            if item.min_length:
                meta["min_length"] = item.min_length
            if item.max_length is not None:
                meta["max_length"] = item.max_length
            if item.pattern is not None:
                pattern = item.pattern if isinstance(item.pattern, str) else item.pattern.pattern
                meta["pattern"] = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)  # Python's $ also matches before "\n"
        elif isinstance(item, AfterValidator):
            posts.append(_after(item.func))
        elif isinstance(item, Strict):
            lax = lax or not item.strict
        elif type(item) in _NUMBER_BOUNDS:
            key = _NUMBER_BOUNDS[type(item)]
            meta[key] = getattr(item, key)
        elif isinstance(item, at.MinLen):
            meta["min_length"] = item.min_length
        elif isinstance(item, at.MaxLen):
            meta["max_length"] = item.max_length
        else:
            raise Unsupported(f"{owner}: metadata {item!r}")
    return meta, posts, strip, lax


def _number(kind: type, meta: dict[str, Any], lo: float, hi: float) -> Any:
    bounds = dict(meta)
    if "ge" in bounds or "gt" in bounds:
        bounds["ge" if "ge" in bounds else "gt"] = max(bounds.get("ge", bounds.get("gt")), lo)
    else:
        bounds["ge"] = lo
    if "le" in bounds or "lt" in bounds:
        bounds["le" if "le" in bounds else "lt"] = min(bounds.get("le", bounds.get("lt")), hi)
    else:
        bounds["le"] = hi
    return Annotated[kind, msgspec.Meta(**bounds)]


def _translate(owner: str, tp: Any, metadata: Sequence[Any], strip: bool, structs: dict) -> tuple[Any, Post | None]:
    """The msgspec type of a pydantic annotation and the post-check of its values."""
    if get_origin(tp) is Annotated:
        base, *more = get_args(tp)
        return _translate(owner, base, [*more, *metadata], strip, structs)
    meta, posts, strip, lax = _constraints(owner, metadata, strip)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2 or meta or posts:
            raise Unsupported(f"{owner}: a union other than `X | None`")
        kind, post = _translate(owner, inner[0], [], strip, structs)
        return kind | None, _optional(post) if post else None
    if lax and tp is not AwareDatetime:
        raise Unsupported(f"{owner}: strict=False on {tp!r}")
    if tp is str:
        _allowed(owner, tp, meta, {"min_length", "max_length", "pattern"})
        return Annotated[str, msgspec.Meta(**meta)] if meta else str, _chain(_stripped if strip else None, *posts)
    if tp is int or tp is float:
        _allowed(owner, tp, meta, set(_NUMBER_BOUNDS.values()))
        limit = (INT_MIN, INT_MAX) if tp is int else (-FLOAT_MAX, FLOAT_MAX)
        return _number(tp, meta, *limit), _chain(*posts)
    if origin is list:
        _allowed(owner, tp, meta, {"min_length", "max_length"})
        (item,) = get_args(tp)
        kind, post = _translate(owner, item, [], strip, structs)
        listed = Annotated[list[kind], msgspec.Meta(**meta)] if meta else list[kind]
        return listed, _chain(_each(post) if post else None, *posts)
    _allowed(owner, tp, meta, set())
    if tp is bool:
        return bool, _chain(*posts)
    if tp is AwareDatetime:
        return Annotated[datetime, msgspec.Meta(tz=True)], _chain(_aware_time, *posts)
    if origin is Literal:
        if not all(type(a) is str for a in get_args(tp)):
            raise Unsupported(f"{owner}: a Literal of other than strings")
        return tp, _chain(*posts)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        shape = _shape(tp, None, structs)
        return shape.struct, _chain(shape.nested, *posts)
    raise Unsupported(f"{owner}: type {tp!r}")


def _allowed(owner: str, tp: Any, meta: dict[str, Any], keys: set[str]) -> None:
    if set(meta) - keys:
        raise Unsupported(f"{owner}: constraints {sorted(set(meta) - keys)} on {tp!r}")


def _shape(model: type[BaseModel], tag_field: str | None, structs: dict) -> Shape:
    if model in structs:
        return structs[model]
    _check_model(model)
    strip = bool(model.model_config.get("str_strip_whitespace"))
    fields: list[tuple[Any, ...]] = []
    posts: list[tuple[str, Post]] = []
    tag = None
    for name, info in model.model_fields.items():
        owner = f"{model.__name__}.{name}"
        _check_field(model.__name__, name, info)
        if name == tag_field:
            values = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
            if len(values) != 1 or info.metadata:
                raise Unsupported(f"{owner}: the discriminator is not one literal")
            tag = (name, values[0])
            continue
        kind, post = _translate(owner, info.annotation, info.metadata, strip, structs)
        if info.is_required():
            fields.append((name, kind))
        else:
            default = info.default
            if isinstance(default, (list, dict, set)) and default:
                raise Unsupported(f"{owner}: a non-empty mutable default")
            fields.append((name, kind, type(default)() if isinstance(default, (list, dict, set)) else default))
        if post is not None:
            posts.append((name, post))
    if tag_field is not None and tag is None:
        raise Unsupported(f"{model.__name__}: no discriminator field {tag_field!r}")
    options: dict[str, Any] = {"tag_field": tag[0], "tag": tag[1]} if tag else {}
    struct = msgspec.defstruct(model.__name__, fields, kw_only=True, module=__name__, gc=False,
                               forbid_unknown_fields=model.model_config.get("extra") == "forbid", **options)
    validators = tuple(d.func for d in model.__pydantic_decorators__.model_validators.values())
    shape = Shape(model, struct, tag, frozenset(model.model_fields), tuple(posts), validators)
    structs[model] = shape
    return shape


def shape_types(contract: Any) -> dict[str, Shape]:
    """The shapes of a contract (a model, or a union of models tagged on a discriminator), by tag."""
    discriminator = None
    if get_origin(contract) is Annotated:
        contract, *metadata = get_args(contract)
        for item in metadata:
            if not isinstance(item, FieldInfo) or not isinstance(item.discriminator, str):
                raise Unsupported(f"contract metadata {item!r}")
            discriminator = item.discriminator
    models = get_args(contract) if get_origin(contract) in (Union, types.UnionType) else (contract,)
    if len(models) > 1 and discriminator is None:
        raise Unsupported("a union of models without a discriminator")
    structs: dict = {}
    shapes = [_shape(m, discriminator, structs) for m in models]
    return {(s.tag[1] if s.tag else s.model.__name__): s for s in shapes}


# --- validation ------------------------------------------------------------------------------------------


class ContractAdapter:
    """Validates a family's events like ``pydantic.TypeAdapter(contract)``: msgspec first, pydantic
    for whatever msgspec refuses.  Input is what a JSON parser gives (dicts, lists, strings, numbers,
    booleans, None); with ``fast=False`` everything goes to pydantic (the reference)."""

    def __init__(self, contract: Any, *, fast: bool = True) -> None:
        self.reference = TypeAdapter(contract)
        self.fast = fast
        shapes = shape_types(contract)
        self._shapes = {s.struct: s for s in shapes.values()}
        union = Union[tuple(self._shapes)]  # noqa: UP007 (a runtime union)
        self._one = union
        self._many = list[union]

    def shapes(self, items: list[Any]) -> list[msgspec.Struct] | None:
        """The msgspec structs of a whole array in one call, or None if any element fails its checks."""
        if not self.fast:
            return None
        try:
            return msgspec.convert(items, self._many)
        except msgspec.ValidationError:
            return None

    def validate_python(self, item: Any, decoded: msgspec.Struct | None = None) -> BaseModel:
        """The event of a JSON object (``decoded``: its struct, when ``shapes`` gave it); raises
        pydantic's ``ValidationError`` as the pydantic contract does."""
        if not self.fast:
            return self.reference.validate_python(item)
        try:
            if decoded is None:
                decoded = msgspec.convert(item, self._one)
            return self._shapes[type(decoded)].build(item, decoded)
        except (msgspec.ValidationError, Refused, ValueError, AssertionError):
            return self.reference.validate_python(item)

    def validate_json(self, data: bytes | str) -> BaseModel:
        try:
            item = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self.reference.validate_json(data)
        return self.validate_python(item)


@cache
def contract_adapter(contract: Any, fast: bool = True) -> ContractAdapter:
    return ContractAdapter(contract, fast=fast)
