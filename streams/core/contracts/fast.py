"""The event contracts checked at C speed: msgspec shapes generated from the pydantic models.

The pydantic models stay the one declaration of every contract (and of the published JSON
Schemas).  ``shape_types`` walks a family's models, their fields, annotations and constraint
metadata, and builds one ``msgspec.Struct`` per model with the same types and bounds: strings
with their lengths, strict numbers with their ranges (finite, as ``allow_inf_nan=False`` asks),
literals, aware timestamps, lists with their lengths, optional fields with their defaults, nested
models, and the union tagged on the discriminator.  What msgspec cannot check (the
``AfterValidator`` functions, the models' ``after`` validators, stripped whitespace) runs in
Python on the decoded values, and so do string patterns (``Matches``: msgspec would call ``re``
for every string, where codes repeat and a remembered one is a set lookup); the event is then
built as an instance of the pydantic model without validating it again.

The fast path only ever accepts a subset of what pydantic accepts, with equal values: anything
msgspec refuses, or that it would read differently from pydantic (text with surrounding
whitespace, timestamps with more than six decimals, integers outside 64 bits, Unix times), is
given to pydantic, whose verdict and error are the answer.  A model that uses a feature the
generator does not translate raises ``Unsupported`` when its family's shapes are built.
"""
from __future__ import annotations

import inspect
import keyword
import re
import sys
import types
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import msgspec
import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, Strict, StringConstraints, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticOmit, PydanticUseDefault

from streams.core.contracts.base import to_utc, no_nul

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # msgspec's bounds; pydantic decides beyond them
FLOAT_MAX = sys.float_info.max  # finite: NaN and infinities fail the bounds
#: timestamps past microseconds: pydantic truncates them, msgspec rounds
_LONG_FRACTION = re.compile(r"[0-9]:[0-9]{2}\.[0-9]{7}")
_LONG_FRACTION_BYTES = re.compile(_LONG_FRACTION.pattern.encode())
_SEVEN_DECIMALS = re.compile(rb"\.[0-9]{7}")  # a quick first look: most messages have none
_ESCAPED_DIGITS = re.compile(rb"\\u00[23]")  # "\u002e" for "." and the like: hidden from the searches
_NUMBER_BOUNDS = {at.Ge: "ge", at.Gt: "gt", at.Le: "le", at.Lt: "lt"}
_CONFIG = {"extra": {"ignore", "forbid"}, "frozen": {True, False}, "strict": {True}, "allow_inf_nan": {False},
           "str_strip_whitespace": {True, False}, "title": None}
_set = object.__setattr__
#: what makes pydantic, not the fast path, decide on an event: msgspec's refusal, or a check's
_PYDANTIC_DECIDES = (msgspec.ValidationError, ValueError, AssertionError, PydanticOmit, PydanticUseDefault)


class Unsupported(TypeError):
    """A contract uses a pydantic feature that ``shape_types`` does not translate."""


class Refused(ValueError):
    """The fast path cannot vouch for a value: pydantic decides."""


def long_fraction_in(raw: bytes) -> bool:
    """Whether a JSON message may hold a timestamp with more than six decimals."""
    if b"\\" in raw and b"\\u00" in raw and _ESCAPED_DIGITS.search(raw):  # a byte first: found at memory speed
        return True
    return _SEVEN_DECIMALS.search(raw) is not None and _LONG_FRACTION_BYTES.search(raw) is not None


def plain_text(raw: bytes) -> bool:
    """Whether no string of a JSON message can begin or end with whitespace or hold a NUL: the message
    is ASCII, with no escape and no space.  A string's raw characters cannot be control characters
    (msgspec refuses them, as JSON does), so its whitespace would be a space, a character beyond ASCII
    or an escape.  Most messages are (compact JSON of codes, numbers and times): their events skip those
    checks (``Shape.build_plain``).  Three scans at memory speed, where looking for a space next to a
    quote would cost more than the checks it saves."""
    return type(raw) is bytes and raw.isascii() and b"\\" not in raw and b" " not in raw


def long_fraction(value: Any) -> bool:
    """Whether a JSON value holds a timestamp with more than six decimals (pydantic truncates them)."""
    if isinstance(value, str):
        return "." in value and _LONG_FRACTION.search(value) is not None
    if isinstance(value, dict):
        return any(map(long_fraction, value.values()))
    if isinstance(value, list):
        return any(map(long_fraction, value))
    return False


class Matches:
    """A string pattern's check (``re.search``, as msgspec and pydantic apply it), with the strings that
    passed remembered, up to ``limit`` (then forgotten all at once): codes of systems, cameras and
    devices repeat, and a set lookup costs a tenth of a search.  ``seen`` is read by the builds."""

    __slots__ = ("search", "seen", "limit")

    def __init__(self, pattern: str, limit: int = 65_536) -> None:
        self.search = re.compile(pattern).search
        self.seen: set[str] = set()
        self.limit = limit

    def __call__(self, value: str) -> None:
        """``Refused`` unless ``value`` matches."""
        if self.search(value) is None:
            raise Refused
        if len(self.seen) >= self.limit:
            self.seen.clear()
        self.seen.add(value)


@dataclass(frozen=True, slots=True)
class Plan:
    """What runs in Python on a decoded value: pydantic's strip check, its pattern, then its
    after-validators, then ``post`` (the elements of a list, a nested model)."""

    strip: bool = False
    afters: tuple[Callable[[Any], Any], ...] = ()
    post: Callable[[Any], Any] | None = None
    pattern: Matches | None = None

    def __call__(self, value: Any) -> Any:
        if self.strip and value.strip() is not value:
            raise Refused
        if self.pattern is not None and value not in self.pattern.seen:
            self.pattern(value)
        for after in self.afters:
            value = after(value)
        return value if self.post is None else self.post(value)

    @property
    def empty(self) -> bool:
        return not (self.strip or self.afters or self.post or self.pattern)


def _each(plan: Plan) -> Callable[[list], list]:
    def each(values: list) -> list:
        return [plan(v) for v in values]

    return each


# --- the generator ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """A pydantic model and its msgspec struct, with what runs in Python after decoding."""

    model: type[BaseModel]
    struct: type[msgspec.Struct]
    tag: tuple[str, str] | None  # (discriminator field, its value)
    names: frozenset[str]
    #: the model instance of a decoded struct: the Python checks, construction, model validators
    build: Callable[[msgspec.Struct], BaseModel]
    #: ``build`` for a struct of a ``plain_text`` message: no text checked for whitespace or NUL
    build_plain: Callable[[msgspec.Struct], BaseModel]


@dataclass(frozen=True, slots=True)
class _Field:
    """What ``_builder`` does with one field of a model."""

    name: str
    stripped: bool  # text that pydantic strips first: refused with surrounding whitespace or a NUL
    afters: tuple[Callable[[Any], Any], ...]  # its after-validators, in pydantic's order
    post: Callable[[Any], Any] | None  # a list's elements, a nested model
    nullable: bool = True  # None is a value of its type (else msgspec never gives None: no test for it)
    pattern: Matches | None = None  # text that must match it


def _builder(model: type[BaseModel], fields: Sequence[_Field], tag: tuple[str, str] | None,
             validators: Sequence[Callable[[Any], Any]], *,
             plain: bool = False) -> Callable[[msgspec.Struct], BaseModel]:
    """``Shape.build`` of a model, written out as the source of one function without loops (as
    ``dataclasses`` writes ``__init__``): each field read from the struct, its text checked for
    surrounding whitespace and NUL, its after-validators and nested builds called, the instance made
    as ``model_construct`` makes it with every field set, then the model's after-validators.  Anything
    that raises makes pydantic decide on the event.  ``plain``: for the structs of a ``plain_text``
    message, whose strings hold no surrounding whitespace and no NUL: those checks are left out."""
    frozen = bool(model.model_config.get("frozen"))
    env: dict[str, Any] = {"Refused": Refused, "model": model, "new": model.__new__, "set_": _set,
                           "names": frozenset(model.model_fields), "fields": set(model.model_fields)}
    lines = ["def build(d):"]
    items = []
    for i, f in enumerate(fields):
        if not f.name.isidentifier() or keyword.iskeyword(f.name) or unicodedata.normalize("NFKC", f.name) != f.name:
            raise Unsupported(f"{model.__name__}.{f.name}: a field name that is not an identifier")
        lines.append(f"    v{i} = d.{f.name}")
        checks = []
        if f.stripped and not plain:
            checks.append(f"if v{i}.strip() is not v{i} or '\\x00' in v{i}: raise Refused")
        if f.pattern is not None:
            env[f"match{i}"], env[f"seen{i}"] = f.pattern, f.pattern.seen
            checks.append(f"if v{i} not in seen{i}: match{i}(v{i})")
        for j, after in enumerate(f.afters):
            if plain and after is no_nul:
                continue
            env[f"a{i}_{j}"] = after
            if after is to_utc:  # most timestamps are in UTC already: no call for them
                env["utc"] = timezone.utc
                checks.append(f"if v{i}.tzinfo is not utc: v{i} = a{i}_{j}(v{i})")
            else:
                checks.append(f"v{i} = a{i}_{j}(v{i})")
        if f.post is not None:
            env[f"p{i}"] = f.post
            checks.append(f"v{i} = p{i}(v{i})")
        if checks and f.nullable:
            lines.append(f"    if v{i} is not None:")
            lines += [f"        {check}" for check in checks]
        else:
            lines += [f"    {check}" for check in checks]
        items.append(f"{f.name!r}: v{i}")
    if tag is not None:  # in the model's order: its serialisers follow the instance's dict
        env["tag"] = tag[1]
        items.insert(list(model.model_fields).index(tag[0]), f"{tag[0]!r}: tag")
    lines += ["    event = new(model)",
              f"    set_(event, '__dict__', {{{', '.join(items)}}})",
              # a frozen model's set of fields is never changed in place (``model_copy`` copies it
              # first): every instance of the model shares one
              "    set_(event, '__pydantic_fields_set__', " + ("fields" if frozen else "set(names)") + ")",
              "    set_(event, '__pydantic_extra__', None)",
              "    set_(event, '__pydantic_private__', None)"]
    for k, validator in enumerate(validators):
        env[f"m{k}"] = validator
        lines.append(f"    if m{k}(event) is not event: raise Refused")
    lines.append("    return event")
    code = compile("\n".join(lines), f"<{__name__}: Shape.build>", "exec")  # one name in profiles
    exec(code, env)  # noqa: S102 (a source made of the model's own field names)
    build = env["build"]
    build.__qualname__ = f"Shape.build{'_plain' if plain else ''}.{model.__name__}"
    return build


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


def _checked_after(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    params = [p for p in inspect.signature(func).parameters.values() if p.default is p.empty]
    if len(params) != 1:
        raise Unsupported(f"AfterValidator {func.__qualname__} takes validation info")
    return func


def _constraints(owner: str, metadata: Sequence[Any], strip: bool) -> tuple[dict[str, Any], list, bool, bool]:
    """msgspec ``Meta`` keywords, after-validators, whether text is stripped and timestamps lax."""
    meta: dict[str, Any] = {}
    afters: list = []
    lax = False
    for item in metadata:
        if isinstance(item, FieldInfo):
            if item.discriminator or item.alias or item.validation_alias:
                raise Unsupported(f"{owner}: a Field() with alias or discriminator inside Annotated")
            more, more_afters, strip, more_lax = _constraints(owner, item.metadata, strip)
            meta.update(more)
            afters += more_afters
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
            afters.append(_checked_after(item.func))
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
    return meta, afters, strip, lax


def _number(kind: type, meta: dict[str, Any], lo: float, hi: float) -> Any:
    bounds = dict(meta)
    low = "gt" if "gt" in bounds else "ge"
    bounds[low] = max(bounds.get(low, lo), lo)
    high = "lt" if "lt" in bounds else "le"
    bounds[high] = min(bounds.get(high, hi), hi)
    return Annotated[kind, msgspec.Meta(**bounds)]


def _allowed(owner: str, tp: Any, meta: dict[str, Any], keys: set[str]) -> None:
    if set(meta) - keys:
        raise Unsupported(f"{owner}: constraints {sorted(set(meta) - keys)} on {tp!r}")


def _translate(owner: str, tp: Any, metadata: Sequence[Any], strip: bool, structs: dict) -> tuple[Any, Plan]:
    """The msgspec type of a pydantic annotation, and what runs in Python on its values."""
    if get_origin(tp) is Annotated:
        base, *more = get_args(tp)
        return _translate(owner, base, [*more, *metadata], strip, structs)
    meta, afters, strip, lax = _constraints(owner, metadata, strip)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2 or meta or afters:
            raise Unsupported(f"{owner}: a union other than `X | None`")
        kind, plan = _translate(owner, inner[0], [], strip, structs)
        return kind | None, plan  # None is never checked further
    if lax and tp is not AwareDatetime:
        raise Unsupported(f"{owner}: strict=False on {tp!r}")
    afters = tuple(afters)
    if tp is str:  # the pattern is checked in Python (``Matches``): msgspec calls ``re`` for every string
        _allowed(owner, tp, meta, {"min_length", "max_length", "pattern"})
        pattern = meta.pop("pattern", None)
        return (Annotated[str, msgspec.Meta(**meta)] if meta else str,
                Plan(strip, afters, pattern=None if pattern is None else Matches(pattern)))
    if tp is int or tp is float:
        _allowed(owner, tp, meta, set(_NUMBER_BOUNDS.values()))
        limit = (INT_MIN, INT_MAX) if tp is int else (-FLOAT_MAX, FLOAT_MAX)
        return _number(tp, meta, *limit), Plan(afters=afters)
    if origin is list:
        _allowed(owner, tp, meta, {"min_length", "max_length"})
        (item,) = get_args(tp)
        kind, plan = _translate(owner, item, [], strip, structs)
        listed = Annotated[list[kind], msgspec.Meta(**meta)] if meta else list[kind]
        return listed, Plan(afters=afters, post=None if plan.empty else _each(plan))
    _allowed(owner, tp, meta, set())
    if tp is bool:
        return bool, Plan(afters=afters)
    if tp is AwareDatetime:  # lax: pydantic also takes Unix times, msgspec refuses them
        return Annotated[datetime, msgspec.Meta(tz=True)], Plan(afters=afters)
    if origin is Literal:
        if not all(type(a) is str for a in get_args(tp)):
            raise Unsupported(f"{owner}: a Literal of other than strings")
        return tp, Plan(afters=afters)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        shape = _shape(tp, None, structs)
        return shape.struct, Plan(afters=afters, post=shape.build)
    raise Unsupported(f"{owner}: type {tp!r}")


def _check_default(owner: str, default: Any, plan: Plan) -> Any:
    """pydantic does not validate defaults: the Python checks must leave them as they are."""
    if isinstance(default, (list, dict, set)):
        if default:
            raise Unsupported(f"{owner}: a non-empty mutable default")
        return type(default)()
    if default is not None and not plan.empty:
        try:
            same = plan(default) == default
        except ValueError:
            same = False
        if not same:
            raise Unsupported(f"{owner}: a default its own checks change or refuse")
    return default


def _shape(model: type[BaseModel], tag_field: str | None, structs: dict) -> Shape:
    """``structs``: the shapes made so far, and under ``None`` whether every struct forbids unknown fields."""
    if model in structs:
        return structs[model]
    _check_model(model)
    strip = bool(model.model_config.get("str_strip_whitespace"))
    specs: list[tuple[Any, ...]] = []
    fields: list[_Field] = []
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
        kind, plan = _translate(owner, info.annotation, info.metadata, strip, structs)
        if info.is_required():
            specs.append((name, kind))
        else:
            specs.append((name, kind, _check_default(owner, info.default, plan)))
        # the NUL check of a stripped field is made with its strip check, without a call
        afters = tuple(a for a in plan.afters if not (a is no_nul and plan.strip))
        nullable = get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind)
        fields.append(_Field(name, plan.strip, afters, plan.post, nullable, plan.pattern))
    if tag_field is not None and tag is None:
        raise Unsupported(f"{model.__name__}: no discriminator field {tag_field!r}")
    options: dict[str, Any] = {"tag_field": tag[0], "tag": tag[1]} if tag else {}
    struct = msgspec.defstruct(model.__name__, specs, kw_only=True, module=__name__, gc=False,
                               forbid_unknown_fields=structs[None] or model.model_config.get("extra") == "forbid",
                               **options)
    validators = tuple(d.func for d in model.__pydantic_decorators__.model_validators.values())
    build = _builder(model, fields, tag, validators)
    # the checks a plain message skips: a model with none has one build for both
    checked_text = any(f.stripped or no_nul in f.afters for f in fields)
    build_plain = _builder(model, fields, tag, validators, plain=True) if checked_text else build
    shape = Shape(model, struct, tag, frozenset(model.model_fields), build, build_plain)
    structs[model] = shape
    return shape


def shape_types(contract: Any, *, exact: bool = False) -> dict[str, Shape]:
    """The shapes of a contract (a model, or a union of models tagged on a discriminator), by tag;
    ``exact``: structs that refuse unknown fields instead of ignoring them as the models do."""
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
    structs: dict = {None: exact}
    shapes = [_shape(m, discriminator, structs) for m in models]
    return {(s.tag[1] if s.tag else s.model.__name__): s for s in shapes}


# --- validation ------------------------------------------------------------------------------------------


class ContractAdapter:
    """Validates a family's events as ``pydantic.TypeAdapter(contract)`` does: msgspec first, pydantic
    for whatever msgspec refuses or cannot vouch for.  Input is JSON, or what a JSON parser gives
    (dicts, lists, strings, numbers, booleans, None).  With ``fast=False`` everything goes to
    pydantic: the reference the fast path is measured and tested against."""

    def __init__(self, contract: Any, *, fast: bool = True) -> None:
        self.reference = TypeAdapter(contract)
        self.fast = fast
        shapes = shape_types(contract)
        exact = shape_types(contract, exact=True)
        self._tag = next(iter(shapes.values())).tag
        self._by_tag = shapes
        #: the build of each struct ``decode`` or ``msgspec.convert`` gives, by the struct's type
        self.builds = {s.struct: s.build for s in (*shapes.values(), *exact.values())}
        #: the same, for the structs of a ``plain_text`` message
        self.plain_builds = {s.struct: s.build_plain for s in (*shapes.values(), *exact.values())}
        self.models = frozenset(s.model for s in shapes.values())  # the contract's event models
        union = Union[tuple(s.struct for s in exact.values())]  # noqa: UP007 (a runtime union)
        self._decoder = msgspec.json.Decoder(union | list[union])

    def decode(self, raw: bytes) -> list[msgspec.Struct] | None:
        """The structs of a whole message (one event or an array) in one msgspec call; None unless
        msgspec takes every element as it is.  Unknown fields send a message to ``validate_python``:
        msgspec skips them unread, where orjson refuses numbers beyond a double, invalid UTF-8 or
        deep nesting."""
        if not self.fast:
            return None
        try:
            decoded = self._decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        if long_fraction_in(raw):
            return None
        return decoded if isinstance(decoded, list) else [decoded]

    def validate_python(self, item: Any) -> BaseModel:
        """The event of a JSON object, or of a struct ``decode`` gave (``Refused`` when pydantic must
        decide on its JSON); raises pydantic's ``ValidationError`` as the contract does."""
        build = self.builds.get(type(item))
        if build is not None:
            return build(item)
        if self.fast and isinstance(item, dict):
            shape = self._shape_of(item)
            if shape is not None and not long_fraction(item):
                try:
                    return shape.build(msgspec.convert(item, shape.struct))
                except _PYDANTIC_DECIDES:
                    pass
        return self.reference.validate_python(item)

    def _shape_of(self, item: dict) -> Shape | None:
        if self._tag is None:
            return next(iter(self._by_tag.values()))
        tag = item.get(self._tag[0])
        return self._by_tag.get(tag) if type(tag) is str else None

    def validate_json(self, data: bytes | str) -> BaseModel:
        try:
            item = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self.reference.validate_json(data)
        return self.validate_python(item)


@cache
def contract_adapter(contract: Any, fast: bool = True) -> ContractAdapter:
    return ContractAdapter(contract, fast=fast)
