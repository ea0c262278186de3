"""The portal speaks Dutch by default and English on request (U-1).

The Dutch catalogue is locale/nl/LC_MESSAGES/django.po; its compiled form
django.mo is committed, so a fresh clone shows Dutch without GNU gettext. These
tests prove the catalogue is complete, the committed .mo says what the .po
says, every string in the code has a translation, and the pages really come
out in Dutch, or in English after the language switch.
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

LOCALE_DIR = Path(django_settings.BASE_DIR) / "locale"
PO_PATH = LOCALE_DIR / "nl" / "LC_MESSAGES" / "django.po"
MO_PATH = LOCALE_DIR / "nl" / "LC_MESSAGES" / "django.mo"
MSGFMT = shutil.which("msgfmt")
XGETTEXT = shutil.which("xgettext")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$')
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{\{\s*\w+\s*\}\}")


def _unquote(text):
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text)


def parse_po(path):
    """The live entries of a .po file as dicts: msgid, msgid_plural, msgctxt,
    msgstr (list of forms) and flags. Obsolete (#~) entries are left out."""
    entries = []
    for block in re.split(r"\n[ \t]*\n", Path(path).read_text(encoding="utf-8")):
        entry = {"flags": set(), "fields": {}}
        current = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            elif line.startswith("#"):
                continue
            elif match := _FIELD.match(line):
                current = match.group(1)
                entry["fields"][current] = _unquote(match.group(2))
            elif line.startswith('"') and current:
                entry["fields"][current] += _unquote(line.strip()[1:-1])
            else:
                raise AssertionError(f"unreadable line in {path}: {line!r}")
        fields = entry["fields"]
        if "msgid" not in fields:
            continue
        forms = sorted(k for k in fields if k.startswith("msgstr"))
        entries.append(
            {
                "msgctxt": fields.get("msgctxt"),
                "msgid": fields["msgid"],
                "msgid_plural": fields.get("msgid_plural"),
                "msgstr": [fields[k] for k in forms],
                "flags": entry["flags"],
            }
        )
    return entries


def _header(entries):
    header = next(e for e in entries if e["msgid"] == "" and e["msgctxt"] is None)
    lines = [line.split(":", 1) for line in header["msgstr"][0].splitlines() if ":" in line]
    return header, {key.strip(): value.strip() for key, value in lines}


def _messages(entries):
    return [e for e in entries if e["msgid"] != ""]


def _key(entry):
    return (entry["msgctxt"], entry["msgid"], entry["msgid_plural"])


def po_catalog(entries):
    """What a .mo built from these entries must hold, keyed the way
    gettext.GNUTranslations keys its _catalog (header left out)."""
    catalog = {}
    for e in _messages(entries):
        if "fuzzy" in e["flags"] or not all(e["msgstr"]):
            continue
        msgid = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if e["msgid_plural"] is None:
            catalog[msgid] = e["msgstr"][0]
        else:
            for n, form in enumerate(e["msgstr"]):
                catalog[(msgid, n)] = form
    return catalog


def mo_catalog(path):
    with open(path, "rb") as fh:
        catalog = dict(gettext.GNUTranslations(fh)._catalog)
    catalog.pop("", None)
    return catalog


@pytest.fixture(autouse=True)
def _dutch_default(settings):
    """The rest of the suite reads English; here the real default is proven."""
    from privacy_admin import settings as real

    settings.LANGUAGE_CODE = real.LANGUAGE_CODE


@pytest.fixture(scope="module")
def po_entries():
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages -l nl"
    return parse_po(PO_PATH)


def test_po_header_is_dutch_utf8_with_two_plural_forms(po_entries):
    """U-1: the catalogue declares Dutch, UTF-8 and Dutch plural rules, and its
    header is not fuzzy (a fuzzy header makes msgfmt ignore the charset)."""
    header, fields = _header(po_entries)
    assert "fuzzy" not in header["flags"]
    assert fields["Language"] == "nl"
    assert "charset=UTF-8" in fields["Content-Type"]
    assert fields["Plural-Forms"].replace(" ", "") == "nplurals=2;plural=(n!=1);"


def test_every_po_entry_is_translated_and_not_fuzzy(po_entries):
    """U-1: every msgid has a Dutch msgstr (each plural form too) and none is
    marked fuzzy, so no English leaks into the Dutch interface."""
    messages = _messages(po_entries)
    assert len(messages) > 100
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in messages if not e["msgstr"] or not all(e["msgstr"])]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    plurals = [e for e in messages if e["msgid_plural"] is not None]
    assert all(len(e["msgstr"]) == 2 for e in plurals)


def test_translations_keep_every_placeholder(po_entries):
    """U-1: a translation names exactly the placeholders of its msgid, so
    %(minutes)s and friends are filled in and never raise KeyError."""
    wrong = []
    for e in _messages(po_entries):
        singular = set(_PLACEHOLDER.findall(e["msgid"]))
        plural = set(_PLACEHOLDER.findall(e["msgid_plural"] or ""))
        for index, form in enumerate(e["msgstr"]):
            found = set(_PLACEHOLDER.findall(form))
            # Dutch has the two forms of English: the singular form may leave
            # out the count exactly where the English singular does.
            wanted = singular | plural if not e["msgid_plural"] else (singular if index == 0 else plural)
            if found != wanted and not (e["msgid_plural"] and found == singular | plural):
                wrong.append((e["msgid"], form))
    assert not wrong, wrong


@pytest.mark.skipif(MSGFMT is None, reason="GNU msgfmt is not installed")
def test_msgfmt_accepts_the_po_with_nothing_untranslated():
    """U-1: GNU msgfmt checks formats and header and counts no fuzzy or
    untranslated messages."""
    result = subprocess.run(
        [MSGFMT, "--check", "--statistics", "-o", "/dev/null", str(PO_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.", result.stderr.strip()), result.stderr


def test_committed_mo_matches_the_po(po_entries):
    """U-1: the committed django.mo holds exactly the translations of the .po,
    so a fresh clone without gettext shows the current Dutch texts."""
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages"
    expected = po_catalog(po_entries)
    actual = mo_catalog(MO_PATH)
    stale = {k: (actual.get(k), v) for k, v in expected.items() if actual.get(k) != v}
    extra = sorted(map(str, set(actual) - set(expected)))
    assert not stale, f"django.mo is out of step with django.po (run compilemessages): {stale}"
    assert not extra, f"django.mo holds msgids the .po no longer has: {extra}"


@pytest.mark.skipif(MSGFMT is None, reason="GNU msgfmt is not installed")
def test_committed_mo_equals_a_fresh_msgfmt_build(tmp_path):
    """U-1: compiling the .po again with msgfmt gives the same translations as
    the committed .mo."""
    fresh = tmp_path / "django.mo"
    subprocess.run([MSGFMT, "--check-format", "-o", str(fresh), str(PO_PATH)], check=True, timeout=60)
    assert mo_catalog(MO_PATH) == mo_catalog(fresh)


@pytest.mark.skipif(XGETTEXT is None, reason="GNU xgettext is not installed")
def test_every_source_string_has_a_translation(po_entries, tmp_path, monkeypatch, settings):
    """U-1: makemessages over a copy of the code and templates finds no msgid
    that the committed catalogue leaves untranslated (new strings fail here)."""
    base = Path(settings.BASE_DIR)
    for part in ("privacy_admin", "templates"):
        shutil.copytree(base / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    (tmp_path / "locale").mkdir()
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["nl"], no_location=True, verbosity=0)
    extracted = {_key(e) for e in _messages(parse_po(tmp_path / "locale" / "nl" / "LC_MESSAGES" / "django.po"))}
    translated = {_key(e) for e in _messages(po_entries) if all(e["msgstr"]) and "fuzzy" not in e["flags"]}
    missing = sorted(map(str, extracted - translated))
    assert not missing, f"run makemessages -l nl and translate: {missing}"


@pytest.mark.django_db
def test_login_page_speaks_dutch_by_default():
    """U-1: the portal speaks Dutch by default: a browser that sends no
    Accept-Language gets the login page in Dutch, marked lang="nl"."""
    client = Client()
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="nl"' in body
    assert "<h1>Inloggen</h1>" in body
    assert "Gebruikersnaam" in body and "Wachtwoord vergeten?" in body
    assert "<h1>Log in</h1>" not in body and "Forgot your password?" not in body


@pytest.mark.django_db
def test_unsupported_browser_language_falls_back_to_dutch():
    """U-1: a browser asking for a language the portal does not offer (German)
    gets Dutch, not English."""
    body = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").get("/accounts/login/").content.decode()
    assert '<html lang="nl"' in body and "<h1>Inloggen</h1>" in body


@pytest.mark.django_db
def test_language_switch_turns_login_page_english_and_back():
    """U-1: the language switch (POST /i18n/setlang/) turns the login page into
    English, marked lang="en", and switching back gives Dutch again."""
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    body = client.get("/accounts/login/").content.decode()
    assert '<html lang="en"' in body
    assert "<h1>Log in</h1>" in body and "Forgot your password?" in body
    assert "Inloggen" not in body

    client.post("/i18n/setlang/", {"language": "nl", "next": "/accounts/login/"})
    body = client.get("/accounts/login/").content.decode()
    assert '<html lang="nl"' in body and "<h1>Inloggen</h1>" in body


def test_dashboard_speaks_dutch_for_a_signed_in_director(verified_client, director_a):
    """U-1: past the login, the dashboard, the navigation and the role names
    (lazy model choices) are Dutch too."""
    response = verified_client(director_a).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Overzicht</h1>" in body
    assert "Uitloggen" in body and "Mijn account" in body
    assert "Directeur — School A" in body
    assert "Dashboard" not in body and "Log out" not in body


def test_pupil_forms_label_the_group_in_dutch():
    """U-1: the pupil's group field has a translated label (the edit form
    showed "Group" in the Dutch interface)."""
    from django.utils import translation

    from students.models import Pupil

    with translation.override("nl"):
        assert str(Pupil._meta.get_field("group").verbose_name) == "groep"
