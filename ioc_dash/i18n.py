"""Vietnamese by default, English switchable.  Keys are English-ish identifiers.

The language of a request: the ``lang`` query parameter, else the ``ioc_lang`` cookie, else
Vietnamese (``lang_from``; ``request_lang`` reads them from the current Flask request).  The texts
are the YAML catalogues of ``ioc_dash/locale/`` (``key: {vi: "…", en: "…"}``, one file per area),
loaded at import; ``t`` falls back to Vietnamese, then to the key.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

import yaml

from streams.core.errors import ConfigError

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
LANG_PARAM = "lang"
LANG_COOKIE = "ioc_lang"

LOCALE_DIR = Path(__file__).with_name("locale")


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping (it would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    mark = key_node.start_mark
                    raise ConfigError(f"string catalogue {mark.name}: {key_node.value!r} is defined twice "
                                      f"(again on line {mark.line + 1})")
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def load_catalogue(directory: Path = LOCALE_DIR) -> dict[str, dict[str, str]]:
    """Every ``*.yaml`` of ``directory`` merged into ``{key: {"vi": …, "en": …}}``.

    Raises ``ConfigError`` naming the file and the key when a file is not such a mapping, a key is
    defined twice (in one file or in two), or an entry lacks a language or has an empty text.
    """
    paths = sorted(Path(directory).glob("*.yaml"))
    if not paths:
        raise ConfigError(f"no string catalogue (*.yaml) in {directory}")
    strings: dict[str, dict[str, str]] = {}
    where: dict[str, Path] = {}
    for path in paths:
        try:
            with path.open(encoding="utf-8") as f:
                doc = yaml.load(f, Loader=_UniqueKeyLoader)  # a SafeLoader
        except yaml.YAMLError as exc:
            raise ConfigError(f"string catalogue {path}: not valid YAML: {exc}") from None
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ConfigError(f"string catalogue {path}: expected key: {{vi: …, en: …}} entries, "
                              f"got {type(doc).__name__}")
        for key, entry in doc.items():
            at = f"string catalogue {path}: {key!r}"
            if not isinstance(key, str):
                raise ConfigError(f"{at}: a key must be text (quote it)")
            if key in strings:
                raise ConfigError(f"{at} is already defined in {where[key]}")
            if not isinstance(entry, dict):
                raise ConfigError(f"{at}: expected {{vi: …, en: …}}, got {type(entry).__name__}")
            unknown = set(entry) - set(LANGS)
            if unknown:
                raise ConfigError(f"{at}: unknown languages {sorted(map(str, unknown))}; use {', '.join(LANGS)}")
            for lang in LANGS:
                text = entry.get(lang)
                if not isinstance(text, str) or not text:
                    raise ConfigError(f"{at}: no {lang} text")
            strings[key] = {lang: entry[lang] for lang in LANGS}
            where[key] = path
    return strings


STRINGS: dict[str, dict[str, str]] = load_catalogue()


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["vi"]


def rule_title(rule: str, lang: str = DEFAULT_LANG) -> str:
    """What an alert rule is called (``ioc_dash/locale/rules.yaml``); its name when it has no title."""
    entry = STRINGS.get(f"rule_{rule}")
    return (entry.get(lang) or entry["vi"]) if entry else rule


def pick_lang(*candidates: str | None) -> str:
    """The first candidate that is a known language, else Vietnamese."""
    for c in candidates:
        if c in LANGS:
            return c  # type: ignore[return-value]
    return DEFAULT_LANG


def query_lang(search: str | Mapping[str, str] | None) -> str | None:
    """The ``lang`` of a query string (``?lang=en``) or of parsed query arguments, if any."""
    if not search:
        return None
    if isinstance(search, str):
        values = parse_qs(search.lstrip("?")).get(LANG_PARAM)
        return values[-1] if values else None
    return search.get(LANG_PARAM)


def lang_from(search: str | Mapping[str, str] | None = None, cookies: Mapping[str, str] | None = None) -> str:
    """``?lang=`` wins, then the ``ioc_lang`` cookie, then Vietnamese."""
    return pick_lang(query_lang(search), (cookies or {}).get(LANG_COOKIE))


def request_lang(search: str | None = None) -> str:
    """The language of the current Flask request (a page, or a Dash callback with the page's query)."""
    from flask import has_request_context, request

    if not has_request_context():
        return lang_from(search)
    return lang_from(search if search is not None else request.args, request.cookies)
