"""The sign-in page: plain HTML served by Flask, so it needs no Dash endpoint before sign-in."""
from __future__ import annotations

from urllib.parse import quote

from flask import render_template_string

from ioc_dash import i18n

TEXT: dict[str, dict[str, str]] = {  # registered as login_<key>
    "title": {"vi": "Đăng nhập – IOC Kiên Giang", "en": "Sign in – Kiên Giang IOC"},
    "heading": {"vi": "Trung tâm điều hành đô thị thông minh Kiên Giang",
                "en": "Kiên Giang Intelligent Operations Centre"},
    "name": {"vi": "Tên người dùng", "en": "User name"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "submit": {"vi": "Đăng nhập", "en": "Sign in"},
    "wrong": {"vi": "Sai tên người dùng hoặc mật khẩu.", "en": "Wrong user name or password."},
    "limited": {"vi": "Quá nhiều lần đăng nhập sai cho tài khoản hoặc địa chỉ này. Vui lòng thử lại sau {n} phút.",
                "en": "Too many failed sign-ins for this user or address. Try again in {n} min."},
    "unavailable": {"vi": "Không kiểm tra được tài khoản (cơ sở dữ liệu không truy cập được). Vui lòng thử lại.",
                    "en": "Cannot check the account now (the database cannot be reached). Please try again."},
    "bad_token": {"vi": "Mã màn hình treo tường không hợp lệ hoặc đã bị thu hồi.",
                  "en": "This wall-screen token is not valid or has been revoked."},
    "signed_out": {"vi": "Đã đăng xuất.", "en": "Signed out."},
    "expired": {"vi": "Phiên làm việc đã hết hạn hoặc bị thu hồi; màn hình đã ngừng cập nhật. Vui lòng đăng nhập lại.",
                "en": "Your session ended or was revoked, so the screen stopped updating. Please sign in again."},
}

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


i18n.register({f"login_{k}": v for k, v in TEXT.items()})


def text(key: str, lang: str) -> str:
    return i18n.t(f"login_{key}", lang)


def render(lang: str, *, message: str = "", kind: str = "error", next_: str = "", name: str = "",
           form: bool = True) -> str:
    """Jinja escapes every value, so a name or a ``next`` from the request is shown as text."""
    t = {k: text(k, lang) for k in TEXT}
    next_q = "&next=" + quote(next_, safe="/") if next_ else ""
    return render_template_string(PAGE, lang=lang, t=t, message=message, kind=kind, next_=next_, next_q=next_q,
                                  name=name, form=form)
