"""Language: ?lang= wins, then the ioc_lang cookie, then Vietnamese; every string in both languages,
from the YAML catalogues of ioc_dash/locale/."""
import re
import string

import pytest

from ioc_dash import i18n
from streams.core.errors import ConfigError


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
    assert i18n.STRINGS == i18n.load_catalogue(i18n.LOCALE_DIR)
    missing = [k for k, v in i18n.STRINGS.items()
               if set(v) != {"vi", "en"} or not v["vi"].strip() or not v["en"].strip()]
    assert not missing
    assert i18n.t("no-such-key", "en") == "no-such-key"
    assert i18n.t("login_submit", "en") == "Sign in"  # the sign-in page's keys carry their prefix


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_vietnamese_and_english_have_the_same_placeholders():
    differ = {k: (placeholders(v["vi"]), placeholders(v["en"])) for k, v in i18n.STRINGS.items()
              if placeholders(v["vi"]) != placeholders(v["en"])}
    assert not differ
    assert placeholders(i18n.STRINGS["con_signed_in_as"]["vi"]) == {"name", "role"}


def write(directory, name, text):
    (directory / name).write_text(text, encoding="utf-8")


def test_a_key_in_two_catalogue_files_is_refused(tmp_path):
    write(tmp_path, "a.yaml", 'status_ok: {vi: "Bình thường", en: "OK"}\n')
    write(tmp_path, "b.yaml", 'other: {vi: "Khác", en: "Other"}\nstatus_ok: {vi: "Bình thường", en: "OK"}\n')
    with pytest.raises(ConfigError, match=r"b\.yaml: 'status_ok' is already defined in .*a\.yaml"):
        i18n.load_catalogue(tmp_path)


def test_a_key_twice_in_one_file_is_refused(tmp_path):
    write(tmp_path, "a.yaml", 'status_ok: {vi: "Bình thường", en: "OK"}\nstatus_ok: {vi: "Tốt", en: "Good"}\n')
    with pytest.raises(ConfigError, match=r"a\.yaml: 'status_ok' is defined twice \(again on line 2\)"):
        i18n.load_catalogue(tmp_path)


@pytest.mark.parametrize("entry, error", [
    ('{en: "Only English"}', "no vi text"),
    ('{vi: "Chỉ tiếng Việt"}', "no en text"),
    ('{vi: "", en: "Empty"}', "no vi text"),
    ('{vi: "Có", en: "Yes", fr: "Oui"}', "unknown languages"),
    ('"Không phải bảng"', "expected {vi: …, en: …}"),
])
def test_an_entry_needs_both_languages(tmp_path, entry, error):
    write(tmp_path, "a.yaml", f"broken: {entry}\n")
    with pytest.raises(ConfigError, match=re.escape(f"a.yaml: 'broken': {error}")):
        i18n.load_catalogue(tmp_path)


def test_a_catalogue_directory_is_read_whole(tmp_path):
    write(tmp_path, "a.yaml", '# a comment\nfirst: {vi: "Một", en: "One {n}"}\n')
    write(tmp_path, "b.yaml", 'second: {vi: "Hai",\n         en: "Two"}\n')
    write(tmp_path, "notes.txt", "not a catalogue")
    assert i18n.load_catalogue(tmp_path) == {"first": {"vi": "Một", "en": "One {n}"},
                                             "second": {"vi": "Hai", "en": "Two"}}
    with pytest.raises(ConfigError, match="no string catalogue"):
        i18n.load_catalogue(tmp_path / "missing")
    write(tmp_path, "c.yaml", "broken: {vi: \"unclosed}\n")
    with pytest.raises(ConfigError, match="c.yaml: not valid YAML"):
        i18n.load_catalogue(tmp_path)
