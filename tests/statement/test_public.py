"""The public page: no login, Dutch by default and English by the language
switch, a PDF of the same, no pupil data, the strict CSP."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve

from consent.models import ConsentCategory
from consent.services import answer_record
from statement.models import StatementVersion
from students.models import Guardian, GuardianLink
from tests.statement.conftest import page_text
from tests.students.conftest import make_pupil
from tests.test_gate import URLS

PAGE = "/privacy/11AA/"
PUBLIC_VIEWS = {"statement_public", "statement_pdf", "statement_versions", "statement_version", "statement_version_pdf"}


def test_anonymous_visitor_reads_the_statement(client, configured_a):
    """S-1: the statement is on the gate's public allow-list; it holds no pupil
    data. Anonymous, and with a half-finished staff login alike."""
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "<h1>Privacyverklaring School A</h1>" in response.content.decode()


def test_password_only_session_reads_it_too(password_only_client, teacher_a, configured_a):
    assert password_only_client(teacher_a).get(PAGE).status_code == 200


def test_unknown_school_is_404_and_brin_is_case_insensitive(client, configured_a):
    assert client.get("/privacy/99ZZ/").status_code == 404
    assert client.get("/privacy/11aa/").status_code == 200


def test_only_public_pages_live_under_the_public_prefix():
    """/privacy/ skips the staff gate, so every URL under it must be one of the
    statement's public views: a staff page added there would be open to all."""
    under = {name for name, path in URLS if path.startswith("/privacy/")}
    assert under == PUBLIC_VIEWS
    assert resolve("/privacy/11AA/v2/").url_name == "statement_version"


def test_dutch_by_default_even_for_an_english_browser(configured_a):
    """The statement is a Dutch legal text first: a browser's language alone does not change it."""
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE)
    body = response.content.decode()
    assert response["Content-Language"] == "nl"
    assert '<html lang="nl">' in body
    assert "Foto's en video's" in page_text(response)


def test_english_by_the_language_switch(client, configured_a):
    """The language switch of every page works for an anonymous visitor and
    brings them back to the statement, in English."""
    page = client.get(PAGE).content.decode()
    assert re.search(r'<form action="/i18n/setlang/" method="post"', page)
    response = client.post("/i18n/setlang/", {"language": "en", "next": PAGE})
    assert response.status_code == 302 and response["Location"] == PAGE
    response = client.get(PAGE)
    body = response.content.decode()
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in body
    assert "<h1>Privacy statement School A</h1>" in body
    assert "Photos and videos" in page_text(response) and "Foto's en video's" not in page_text(response)
    client.post("/i18n/setlang/", {"language": "nl", "next": PAGE})
    assert "Foto's en video's" in page_text(client.get(PAGE))


@pytest.mark.parametrize("language", ["nl", "en"])
def test_pdf_of_the_same(client, configured_a, language):
    """The PDF is a PDF, of the version in force, in the chosen language."""
    client.cookies["django_language"] = language
    response = client.get(f"{PAGE}pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == f'attachment; filename="privacyverklaring-11AA-v1-{language}.pdf"'
    title = "Privacyverklaring School A" if language == "nl" else "Privacy statement School A"
    assert title.encode() in response.content
    old = client.get(f"{PAGE}v1/pdf/")
    assert old.status_code == 200 and old.content.startswith(b"%PDF-")


def test_sends_the_strict_csp_and_no_inline_script_or_style(client, configured_a):
    """S-18: the public page carries the same Content-Security-Policy as the
    portal, and has nothing that policy would block."""
    for language in ("nl", "en"):
        client.cookies["django_language"] = language
        for path in (PAGE, f"{PAGE}versies/", f"{PAGE}v1/"):
            response = client.get(path)
            policy = response["Content-Security-Policy"]
            assert policy == settings.CONTENT_SECURITY_POLICY
            assert "script-src 'self'" in policy and "object-src 'none'" in policy
            assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
            body = response.content.decode()
            assert not re.search(r"<script(?![^>]*\ssrc=)", body), path
            assert " style=" not in body and "<style" not in body and "javascript:" not in body
            assert response["Cache-Control"] == "no-store"


def test_no_pupil_data_on_the_page(client, configured_a, group5_a):
    """A planted pupil, parent and consent answer appear nowhere in the
    statement, its versions or its PDF title: it is built from configuration only."""
    pupil = make_pupil(configured_a, group5_a, first="Zebedeus", last="Quaxwortel", bsn="999990019")
    parent = Guardian.objects.create(first_name="Ottoline", last_name="Quaxwortel", email="o.quax@example.org")
    GuardianLink.objects.create(pupil=pupil, guardian=parent, has_authority=True)
    website = ConsentCategory.objects.get(school=configured_a, key="website")
    answer_record(pupil=pupil, category=website, guardian=parent, value="given", channel="paper")
    pages = []
    for language in ("nl", "en"):
        client.cookies["django_language"] = language
        for path in (PAGE, f"{PAGE}versies/", f"{PAGE}v1/", f"{PAGE}pdf/"):
            pages.append(client.get(path).content)
    stored = StatementVersion.objects.filter(school=configured_a).values_list("content_nl", "content_en")
    pages += [text.encode() for pair in stored for text in pair]
    for content in pages:
        for planted in (b"Zebedeus", b"Quaxwortel", b"Ottoline", b"999990019", b"o.quax@example.org"):
            assert planted not in content


def test_the_statement_reads_no_pupil_table(client, configured_a, django_assert_max_num_queries):
    """Built from configuration: the page costs a fixed number of queries and
    none touches the pupil, guardian or answer tables."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(PAGE)
    with CaptureQueriesContext(connection) as ctx:
        client.get(PAGE)
    sql = " ".join(q["sql"] for q in ctx.captured_queries).lower()
    for table in ("students_pupil", "students_guardian", "consent_consentanswer", "students_healthnote"):
        assert table not in sql
    assert len(ctx.captured_queries) <= 12
