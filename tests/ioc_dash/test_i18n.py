"""Language: ?lang= wins, then the ioc_lang cookie, then Vietnamese; every string in both languages."""
import pytest

from ioc_dash import app, i18n


def test_the_query_wins_then_the_cookie_then_vietnamese():
    assert i18n.lang_from("?lang=en", {"ioc_lang": "vi"}) == "en"
    assert i18n.lang_from("?page=2", {"ioc_lang": "en"}) == "en"
    assert i18n.lang_from({"lang": "fr"}, {"ioc_lang": "xx"}) == "vi"
    assert i18n.lang_from(None, None) == "vi"
    assert i18n.query_lang("?a=1&lang=vi&lang=en") == "en"


def test_request_lang_reads_the_flask_request():
    from flask import Flask

    server = Flask(__name__)
    with server.test_request_context("/map?lang=en"):
        assert i18n.request_lang() == "en"
    with server.test_request_context("/map", headers={"Cookie": "ioc_lang=en"}):
        assert i18n.request_lang() == "en" and i18n.request_lang("?lang=vi") == "vi"
    assert i18n.request_lang("?lang=en") == "en"  # outside a request


def test_every_string_has_vietnamese_and_english():
    assert app.WALL_PAGES  # every page imported: every page's strings registered
    missing = [k for k, v in i18n.STRINGS.items() if not v.get("vi") or not v.get("en")]
    assert not missing
    assert i18n.t("no-such-key", "en") == "no-such-key"


def test_a_key_cannot_be_registered_twice_with_other_texts():
    i18n.register({"status_ok": dict(i18n.STRINGS["status_ok"])})  # the same texts: fine
    with pytest.raises(ValueError, match="already registered"):
        i18n.register({"status_ok": {"vi": "Khác", "en": "Other"}})
    with pytest.raises(ValueError, match="Vietnamese"):
        i18n.register({"only_en": {"en": "x"}})
