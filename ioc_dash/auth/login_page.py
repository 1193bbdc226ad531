"""The sign-in page: plain HTML served by Flask, so it needs no Dash endpoint before sign-in."""
from __future__ import annotations

from urllib.parse import quote

from flask import render_template_string

from ioc_dash import i18n

# the texts are login_<key> in ioc_dash/locale/login.yaml; these are the form's
FORM_KEYS = ("title", "heading", "name", "password", "submit")

PAGE = """<!doctype html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t.title }}</title><link rel="stylesheet" href="/assets/wall.css"><link rel="stylesheet" href="/assets/console.css"></head>
<body class="login-page">
<main class="panel login-box">
  <p class="lang-switch"><a href="?lang=vi{{ next_q }}">Tiếng Việt</a> · <a href="?lang=en{{ next_q }}">English</a></p>
  <h1>{{ t.heading }}</h1>
  {% if message %}<p id="login-message" class="login-message {{ kind }}" role="alert">{{ message }}</p>{% endif %}
  {% if form %}
  <form method="post" action="/login" autocomplete="on">
    <input type="hidden" name="next" value="{{ next_ }}">
    <label>{{ t.name }}<br><input id="login-name" name="name" value="{{ name }}" autocomplete="username"
      required maxlength="64" autofocus></label><br>
    <label>{{ t.password }}<br><input id="login-password" name="password" type="password"
      autocomplete="current-password" required maxlength="256"></label><br>
    <button id="login-submit" type="submit">{{ t.submit }}</button>
  </form>
  {% endif %}
</main>
</body></html>"""


def text(key: str, lang: str) -> str:
    return i18n.t(f"login_{key}", lang)


def render(lang: str, *, message: str = "", kind: str = "error", next_: str = "", name: str = "",
           form: bool = True, province: str = "") -> str:
    """Jinja escapes every value, so a name or a ``next`` from the request is shown as text; ``province``
    names the centre in the title and the heading."""
    t = {k: text(k, lang).replace("{province}", province) for k in FORM_KEYS}
    next_q = "&next=" + quote(next_, safe="/") if next_ else ""
    return render_template_string(PAGE, lang=lang, t=t, message=message, kind=kind, next_=next_, next_q=next_q,
                                  name=name, form=form)
