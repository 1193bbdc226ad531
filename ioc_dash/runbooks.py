"""``/runbooks``: what to do for each alert, in Vietnamese (``?lang=vi``, the default) or English.

The pages are ``runbooks.vi.md`` and ``runbooks.md`` of ``IOC_RUNBOOK_DIR`` (the repository's
``docs/``), rendered with Python-Markdown (tables, heading ids) into one page each, sized for a
phone as much as for a desk.  Every alert links to its section (``/runbooks?lang=vi#<rule's
anchor>``: the console's alert page, e-mail, Telegram, Zalo and Alertmanager's annotation), and
both languages give each section the same id.  Behind the sign-in like every page; a file is read
again when it changes.
"""
from __future__ import annotations

import html
import threading
from pathlib import Path

import markdown
from flask import Flask, make_response, request

from ioc_dash.i18n import request_lang, t
from streams.core.errors import ConfigError
from streams.core.settings import Settings

PATH = "/runbooks"
FILES = {"vi": "runbooks.vi.md", "en": "runbooks.md"}
STYLE = """
body { font-family: "Noto Sans", "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 52rem; padding: 0.8rem 1rem 3rem;
       line-height: 1.5; color: #1b2430; background: #fbfcfd; font-size: 1.05rem; }
nav { display: flex; gap: 1rem; flex-wrap: wrap; border-bottom: 1px solid #d5dbe3; padding-bottom: 0.5rem; }
nav a { color: #1d5fa8; } nav a.current { font-weight: 700; color: #1b2430; text-decoration: none; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-top: 1px solid #e3e8ee; padding-top: 1rem; }
h2:target { background: #fff4d6; }
table { border-collapse: collapse; display: block; overflow-x: auto; } td, th { border: 1px solid #d5dbe3; padding: 0.3rem 0.5rem; }
code { background: #eef2f6; padding: 0 0.2rem; border-radius: 3px; overflow-wrap: anywhere; }
"""


class Runbooks:
    """The rendered pages, one per language, read again when their file changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._cache: dict[str, tuple[float, str, list[str]]] = {}
        self._lock = threading.Lock()

    def page(self, lang: str) -> tuple[str, list[str]]:
        """(HTML body, section ids) of the language's runbooks."""
        path = self.folder / FILES[lang]
        try:
            mtime = path.stat().st_mtime
        except OSError:
            raise ConfigError(f"runbooks not found: {path} (IOC_RUNBOOK_DIR)") from None
        with self._lock:
            cached = self._cache.get(lang)
            if cached and cached[0] == mtime:
                return cached[1], cached[2]
        md = markdown.Markdown(extensions=["toc", "attr_list", "tables", "fenced_code"])
        body = md.convert(path.read_text(encoding="utf-8"))
        ids = list(_ids(md.toc_tokens))
        with self._lock:
            self._cache[lang] = (mtime, body, ids)
        return body, ids


def _ids(tokens: list[dict]) -> list[str]:
    out = []
    for tok in tokens:
        out.append(tok["id"])
        out.extend(_ids(tok.get("children", [])))
    return out


def document(body: str, lang: str) -> str:
    other = "en" if lang == "vi" else "vi"
    links = (f'<a href="/console">{html.escape(t("con_alerts", lang))}</a>'
             f'<a class="current" href="{PATH}?lang={lang}">{html.escape(t("runbooks_title", lang))}</a>'
             f'<a href="{PATH}?lang={other}" id="runbooks-lang">{html.escape(t(f"lang_{other}", lang))}</a>')
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(t("runbooks_title", lang))}</title><style>{STYLE}</style></head>'
            f'<body><nav>{links}</nav><main id="runbooks">{body}</main></body></html>')


def install(app: Flask, settings: Settings) -> Runbooks:
    books = Runbooks(settings.runbook_dir)

    def view():
        lang = request.args.get("lang") if request.args.get("lang") in FILES else request_lang()
        lang = lang if lang in FILES else "vi"
        body, _ = books.page(lang)
        resp = make_response(document(body, lang))
        resp.headers["Content-Type"] = "text/html; charset=utf-8"
        resp.headers["Cache-Control"] = "private, max-age=300"
        return resp

    app.add_url_rule(PATH, "runbooks", view)
    return books
