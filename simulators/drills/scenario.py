"""Drill scenarios: YAML files in this folder, checked when loaded.

A scenario is a timeline of steps (at ``at`` seconds from the start, for ``for`` seconds, one
action: ``force`` a simulator condition through its control hook, or ``inject`` events made from
a template at a rate) and the signals it promises (see ``signals.py``).  Every error names the
file, the step or signal, and the field.  An inject template is tried once at load time and its
sample event validated against the family's contract, so a scenario that would produce events
the pipeline rejects never starts.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulators.drills.signals import predicate
from simulators.drills.templates import Context, TemplateError, compile_template
from simulators.timeshift import type_literal
from streams.core.errors import ConfigError
from streams.core.families import MODELS, adapter
from streams.core.settings import PACKAGE_ROOT
from streams.core.topics import FEEDS

DRILLS_DIR = Path(__file__).resolve().parent
RULES_GLOB = PACKAGE_ROOT / "deploy" / "rules"
#: template fields whose literal value names an entity an alert may be about
ENTITY_FIELDS = ("system", "camera", "device", "station", "zone", "unit_code", "agency", "src_ip", "target")
SAMPLE_TIME = datetime(2023, 6, 1, 2, 30, tzinfo=timezone.utc)


class DrillError(ConfigError):
    """A scenario file is wrong: says which file, which step or signal, which field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(_Strict):
    vi: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class ForceAction(_Strict):
    family: str
    target: str
    condition: str
    #: keyword arguments of the simulator's hook (``src_ip``, ``rate``, ``value`` …)
    options: dict[str, Any] = {}


class InjectAction(_Strict):
    family: str
    rate: Annotated[float, Field(gt=0, le=100_000, description="events/s at the reference background rate")]
    template: dict[str, Any]
    #: the field whose value is the Kafka key; found from a sample event when not given
    key: str | None = None


class Step(_Strict):
    at: Annotated[float, Field(ge=0)]
    for_: Annotated[float, Field(gt=0, alias="for")]
    note: str | None = None
    force: ForceAction | None = None
    inject: InjectAction | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if (self.force is None) == (self.inject is None):
            raise ValueError("a step has exactly one action: `force` or `inject`")
        return self

    @property
    def end(self) -> float:
        return self.at + self.for_


Window = tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(gt=0)]]


class Signal(_Strict):
    says: Text
    kind: Literal["count", "distinct", "share", "rate_ratio"]
    family: str
    where: dict[str, Any] = {}
    window: Window
    min: Annotated[float, Field(ge=0)] | None = None  # count, distinct
    max: Annotated[float, Field(ge=0)] | None = None  # count, without group_by: at most this many
    group_by: str | None = None  # count: the largest group must reach `min`
    field: str | None = None  # distinct
    of: dict[str, Any] | None = None  # share: the part of `where` counted
    above: Annotated[float, Field(ge=0, lt=1)] | None = None  # share
    baseline: Window | None = None  # rate_ratio
    factor: Annotated[float, Field(gt=0)] | None = None  # rate_ratio

    @model_validator(mode="after")
    def _parameters(self) -> Signal:
        need = {"count": ("min",), "distinct": ("min", "field"), "share": ("of", "above"),
                "rate_ratio": ("baseline", "factor")}[self.kind]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.kind} signal needs {', '.join(missing)}")
        if self.max is not None and (self.kind != "count" or self.group_by is not None):
            raise ValueError("`max` is for count signals without group_by")
        for w in (self.window, self.baseline):
            if w is not None and w[0] >= w[1]:
                raise ValueError(f"window {list(w)} ends before it starts")
        return self


class PromisedAlert(_Strict):
    """An alert the drill promises: this rule fires for this entity while its cause holds, from
    ``during[0]`` to ``during[1]`` (scenario seconds): the end-to-end test and the score hold it
    to that."""

    rule: Annotated[str, Field(min_length=1)]
    entity: Annotated[str, Field(min_length=1)]
    during: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(gt=0)]]


class Scenario(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")]
    title: Text
    description: Text
    operator_sees: Text
    duration_s: Annotated[float, Field(gt=0, le=86_400)]
    steps: Annotated[list[Step], Field(min_length=1)]
    signals: Annotated[list[Signal], Field(min_length=1)]
    #: the alerts it promises, explicitly (an empty list: it promises none within its duration)
    alerts: list[PromisedAlert]
    source: Path | None = Field(None, exclude=True)

    @property
    def targets(self) -> list[str]:
        """Entities the drill touches: forced targets, entities named by its injected events
        (and a forced attacker's address), and the entities of its promised alerts.  Alerts
        raised for these while the drill runs are the drill's."""
        out: dict[str, None] = {}
        for step in self.steps:
            if step.force:
                out[step.force.target] = None
                for k in ENTITY_FIELDS:
                    if isinstance(step.force.options.get(k), str):
                        out[step.force.options[k]] = None
            if step.inject:
                for k in ENTITY_FIELDS:
                    if isinstance(step.inject.template.get(k), (str, int)) and not isinstance(
                            step.inject.template.get(k), bool):
                        out[str(step.inject.template[k])] = None
        for a in self.alerts:
            out[a.entity] = None
        return list(out)

    @property
    def families(self) -> set[str]:
        return {(s.force or s.inject).family for s in self.steps} | {s.family for s in self.signals}  # type: ignore[union-attr]

    def peak_rate(self) -> float:
        """Most events/s the injections add at once (at the reference background rate)."""
        edges = sorted({s.at for s in self.steps})
        return max((sum(s.inject.rate for s in self.steps if s.inject and s.at <= t < s.end) for t in edges),
                   default=0.0)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out.replace("for_", "for") or "scenario"


def model_of(family: str, event_type: Any) -> type | None:
    """The contract model of a family's event type, None when there is none."""
    return next((m for m in MODELS.get(family, ()) if type_literal(m) == event_type), None)


def _check_inject(step: Step, index: int, where: str) -> Step:
    inj = step.inject
    assert inj is not None
    here = f"{where}: steps[{index}].inject"
    if inj.family not in MODELS:
        raise DrillError(f"{here}.family: no contract for {inj.family!r} yet; known: {', '.join(MODELS)}")
    model = model_of(inj.family, inj.template.get("type"))
    if model is None:
        known = ", ".join(m.__name__ for m in MODELS[inj.family])
        raise DrillError(f"{here}.template.type: {inj.template.get('type')!r} is not a {inj.family} event; known: {known}")
    if "id" in inj.template:
        raise DrillError(f"{here}.template.id: ids are made by the drill, leave `id` out")
    try:
        render = compile_template(inj.template)
    except TemplateError as exc:
        raise DrillError(f"{here}.template.{exc.field}: {exc}") from None
    sample = render(Context(random.Random(0), seq=0, progress=0.5, time=SAMPLE_TIME, run="sample"))
    sample.setdefault(model.time_field, SAMPLE_TIME.isoformat().replace("+00:00", "Z"))
    sample["id"] = "drill-sample"
    try:
        event = adapter(inj.family).validate_python(sample)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"] if p != model.__name__)
        raise DrillError(f"{here}.template.{field}: the sample event breaks the {model.__name__} contract: "
                         f"{err['msg']}") from None
    key = inj.key or next((k for k, v in sample.items() if k != "id" and str(v) == event.entity), "id")
    if key not in inj.template and key != "id":
        raise DrillError(f"{here}.key: {key!r} is not a field of the template")
    return step.model_copy(update={"inject": inj.model_copy(update={"key": key})})


def rule_names(folder: Path = RULES_GLOB) -> frozenset[str]:
    """Names of the alert rules in ``deploy/rules/*.yaml`` (what a promised alert may name)."""
    names: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DrillError(f"{path}: cannot read the alert rules: {exc}") from None
        names.update(str(r["name"]) for r in doc.get("rules") or [] if isinstance(r, dict) and "name" in r)
    return frozenset(names)


def parse_scenario(doc: Any, where: str, *, rules: frozenset[str] | None = None) -> Scenario:
    """A scenario from its YAML document; ``where`` names it in errors.  Each promised alert must
    name a rule of ``rules`` (by default those of ``deploy/rules/*.yaml``)."""
    if not isinstance(doc, dict):
        raise DrillError(f"{where}: expected a mapping at the top")
    try:
        sc = Scenario.model_validate(doc)
    except ValidationError as exc:
        lines = [f"{where}: {_loc(e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)[:5]]
        raise DrillError("; ".join(lines)) from None
    steps = []
    for i, step in enumerate(sc.steps):
        action = step.force or step.inject
        if action.family not in FEEDS:  # type: ignore[union-attr]
            kind = "force" if step.force else "inject"
            raise DrillError(f"{where}: steps[{i}].{kind}.family: unknown family {action.family!r}; "  # type: ignore[union-attr]
                             f"known: {', '.join(FEEDS)}")
        if step.end > sc.duration_s:
            raise DrillError(f"{where}: steps[{i}]: ends at {step.end:g} s, after the scenario ({sc.duration_s:g} s)")
        steps.append(_check_inject(step, i, where) if step.inject else step)
    for i, sig in enumerate(sc.signals):
        if sig.family not in FEEDS:
            raise DrillError(f"{where}: signals[{i}].family: unknown family {sig.family!r}")
        for name in ("where", "of"):
            try:
                predicate(getattr(sig, name) or {})
            except ValueError as exc:
                raise DrillError(f"{where}: signals[{i}].{name}: {exc}") from None
        if max(sig.window[1], (sig.baseline or (0, 0))[1]) > sc.duration_s:
            raise DrillError(f"{where}: signals[{i}].window: ends after the scenario ({sc.duration_s:g} s)")
    known = rule_names() if rules is None else rules
    seen: set[tuple[str, str]] = set()
    for i, a in enumerate(sc.alerts):
        if a.rule not in known:
            raise DrillError(f"{where}: alerts[{i}].rule: no alert rule {a.rule!r} in deploy/rules; "
                             f"known: {', '.join(sorted(known))}")
        if not a.during[0] < a.during[1] <= sc.duration_s:
            raise DrillError(f"{where}: alerts[{i}].during: {list(a.during)} must start before it ends, "
                             f"within the scenario ({sc.duration_s:g} s)")
        if (a.rule, a.entity) in seen:
            raise DrillError(f"{where}: alerts[{i}]: {a.rule} for {a.entity} is promised twice")
        seen.add((a.rule, a.entity))
    return sc.model_copy(update={"steps": steps, "source": Path(where)})


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (a file in this folder) or by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = DRILLS_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise DrillError(f"no drill named {name_or_path!r}; known: {', '.join(scenario_names())}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DrillError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise DrillError(f"{path}: not valid YAML: {exc}") from None
    sc = parse_scenario(doc, str(path))
    if path.parent == DRILLS_DIR and sc.name != path.stem:
        raise DrillError(f"{path}: name: {sc.name!r} differs from the file name {path.stem!r}")
    return sc


def scenario_names() -> list[str]:
    return sorted(p.stem for p in DRILLS_DIR.glob("*.yaml"))


def load_all() -> list[Scenario]:
    return [load_scenario(n) for n in scenario_names()]
