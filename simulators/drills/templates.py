"""Event templates of drill steps: literal fields plus a few generators, compiled once.

A field's value is a literal (copied as is; nested mappings and lists too) or a mapping with
one generator key::

    {choice: [a, b], weights: [3, 1]}   one at random (weights optional)
    {cycle: [a, b, c]}                 in turn, by the event's sequence number in its step
    {uniform: [lo, hi], digits: 2}     a float
    {randint: [lo, hi]}                an integer, both ends included
    {ramp: [start, end], digits: 2, noise: 0.0}   linear over the step's duration, plus N(0, noise)
    {ip: "198.51.100.0/24"}            an address in the network (or a list of networks)
    {format: "user{seq:03d}"}          text with {seq} (sequence in the step) and {run}
    {time: 1800}                       the event's time plus seconds, ISO 8601 UTC ([low, high]: at random)
    {stage: [a, b, c]}                 a in the first third of the step, b in the second, c in the last

Everything random comes from the step's own ``random.Random``, so a seed repeats a drill.
"""
from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulators.base import iso

Render = Callable[["Context"], Any]


@dataclass(slots=True)
class Context:
    rng: random.Random
    seq: int  # the event's number in its step, from 0
    progress: float  # 0 at the step's start, 1 at its end
    time: datetime  # the event's time
    run: str  # names this run of the drill


class TemplateError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _pair(arg: Any, field: str, gen: str) -> tuple[float, float]:
    if (not isinstance(arg, list) or len(arg) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in arg)):
        raise TemplateError(field, f"`{gen}` takes two numbers [low, high], got {arg!r}")
    return arg[0], arg[1]


def _options(arg: Any, field: str, gen: str) -> list[Render]:
    if not isinstance(arg, list) or not arg:
        raise TemplateError(field, f"`{gen}` takes a non-empty list, got {arg!r}")
    return [_compile(x, f"{field}[{i}]") for i, x in enumerate(arg)]


def _choice(arg: Any, spec: dict, field: str) -> Render:
    opts = _options(arg, field, "choice")
    weights = spec.get("weights")
    if weights is None:
        return lambda ctx: ctx.rng.choice(opts)(ctx)
    if (not isinstance(weights, list) or len(weights) != len(opts)
            or not all(isinstance(w, (int, float)) and w >= 0 for w in weights) or not sum(weights)):
        raise TemplateError(field, f"`weights` needs {len(opts)} non-negative numbers, not all zero")
    return lambda ctx: ctx.rng.choices(opts, weights)[0](ctx)


def _cycle(arg: Any, spec: dict, field: str) -> Render:
    opts = _options(arg, field, "cycle")
    return lambda ctx: opts[ctx.seq % len(opts)](ctx)


def _uniform(arg: Any, spec: dict, field: str) -> Render:
    lo, hi = _pair(arg, field, "uniform")
    digits = int(spec.get("digits", 2))
    return lambda ctx: round(ctx.rng.uniform(lo, hi), digits)


def _randint(arg: Any, spec: dict, field: str) -> Render:
    lo, hi = _pair(arg, field, "randint")
    if lo != int(lo) or hi != int(hi) or lo > hi:
        raise TemplateError(field, f"`randint` takes two integers low <= high, got {arg!r}")
    return lambda ctx: ctx.rng.randint(int(lo), int(hi))


def _ramp(arg: Any, spec: dict, field: str) -> Render:
    start, end = _pair(arg, field, "ramp")
    digits, noise = int(spec.get("digits", 2)), float(spec.get("noise", 0.0))
    return lambda ctx: round(start + (end - start) * ctx.progress + (ctx.rng.gauss(0, noise) if noise else 0), digits)


def _ip(arg: Any, spec: dict, field: str) -> Render:
    try:
        nets = [ipaddress.ip_network(n) for n in (arg if isinstance(arg, list) else [arg])]
    except (TypeError, ValueError) as exc:
        raise TemplateError(field, f"`ip` takes a network such as 198.51.100.0/24: {exc}") from None

    def render(ctx: Context) -> str:
        net = ctx.rng.choice(nets)
        if net.num_addresses <= 2:
            return str(net.network_address)
        return str(net.network_address + ctx.rng.randrange(1, net.num_addresses - 1))
    return render


def _format(arg: Any, spec: dict, field: str) -> Render:
    if not isinstance(arg, str):
        raise TemplateError(field, f"`format` takes text, got {arg!r}")
    try:
        arg.format(seq=0, run="r")
    except (KeyError, IndexError, ValueError) as exc:
        raise TemplateError(field, f"`format` may use {{seq}} and {{run}} only: {exc!r}") from None
    return lambda ctx: arg.format(seq=ctx.seq, run=ctx.run)


def _time(arg: Any, spec: dict, field: str) -> Render:
    if isinstance(arg, list):
        lo, hi = _pair(arg, field, "time")
        return lambda ctx: iso(ctx.time + timedelta(seconds=ctx.rng.uniform(lo, hi)))
    if not isinstance(arg, (int, float)) or isinstance(arg, bool):
        raise TemplateError(field, f"`time` takes seconds after the event's time, or [low, high], got {arg!r}")
    delta = timedelta(seconds=arg)
    return lambda ctx: iso(ctx.time + delta)


def _stage(arg: Any, spec: dict, field: str) -> Render:
    opts = _options(arg, field, "stage")
    return lambda ctx: opts[min(len(opts) - 1, int(ctx.progress * len(opts)))](ctx)


GENERATORS: dict[str, tuple[Callable[[Any, dict, str], Render], frozenset[str]]] = {
    "choice": (_choice, frozenset({"weights"})),
    "cycle": (_cycle, frozenset()),
    "uniform": (_uniform, frozenset({"digits"})),
    "randint": (_randint, frozenset()),
    "ramp": (_ramp, frozenset({"digits", "noise"})),
    "ip": (_ip, frozenset()),
    "format": (_format, frozenset()),
    "time": (_time, frozenset()),
    "stage": (_stage, frozenset()),
}


def _compile(value: Any, field: str) -> Render:
    if isinstance(value, dict):
        gens = [k for k in value if k in GENERATORS]
        if not gens:
            parts = {k: _compile(v, f"{field}.{k}") for k, v in value.items()}
            return lambda ctx: {k: f(ctx) for k, f in parts.items()}
        if len(gens) > 1:
            raise TemplateError(field, f"one generator per field, got {', '.join(gens)}")
        build, options = GENERATORS[gens[0]]
        extra = set(value) - {gens[0]} - options
        if extra:
            raise TemplateError(field, f"`{gens[0]}` does not take {', '.join(sorted(extra))}")
        return build(value[gens[0]], value, field)
    if isinstance(value, list):
        items = [_compile(x, f"{field}[{i}]") for i, x in enumerate(value)]
        return lambda ctx: [f(ctx) for f in items]
    return lambda ctx: value


def compile_template(template: dict[str, Any]) -> Callable[[Context], dict[str, Any]]:
    """A function making one event (without ``id``) from a context."""
    fields = {k: _compile(v, str(k)) for k, v in template.items()}
    return lambda ctx: {k: f(ctx) for k, f in fields.items()}
