"""Accessibility of the core's shared templates (WCAG 2.1 AA: 1.1.1, 1.3.1,
2.4.6, 3.3.1, 3.3.2, 4.1.2): help texts and errors are tied to their field,
symbols carry text, and repeated buttons say what they act on."""

import datetime
import re
from html.parser import HTMLParser

from privacy_admin.models import StaffSession
from tests.conftest import PASSWORD


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = {}
        self.described = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] = attrs.get("class", "")
        if attrs.get("aria-describedby") and attrs.get("name"):
            self.described[attrs["name"]] = attrs["aria-describedby"].split()


def _parse(response):
    parser = _Ids()
    parser.feed(response.content.decode())
    return parser


def test_help_text_and_errors_are_described_by_their_ids(client, teacher_a):
    """WCAG 1.3.1, 3.3.1: Django's aria-describedby points at the help text
    and at the errors that the shared form template renders, by those ids."""
    client.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    response = client.post("/accounts/verify/", {"code": "12345x"})
    page = _parse(response)
    assert page.described["code"] == ["id_code_helptext", "id_code_error"]
    assert "help" in page.ids["id_code_helptext"] and "error" in page.ids["id_code_error"]


def test_every_aria_describedby_target_exists(verified_client, app_admin_a, school_a):
    """WCAG 1.3.1: on a form with many fields, help texts and errors, every id
    named by aria-describedby is on the page."""
    response = verified_client(app_admin_a).post(
        "/beheer/medewerkers/nieuw/",
        {"username": "Bad Name!", "email": "no", "school": school_a.pk, "role": "tijdelijke_leerkracht"},
    )
    page = _parse(response)
    assert page.described, "the form should have described fields"
    assert any(ref.endswith("_error") for refs in page.described.values() for ref in refs)
    assert any(ref.endswith("_helptext") for refs in page.described.values() for ref in refs)
    for name, refs in page.described.items():
        for ref in refs:
            assert ref in page.ids, (name, ref)


def test_role_table_symbols_carry_text(verified_client, app_admin_a):
    """WCAG 1.1.1, 4.1.2: the ✔ and – of the role table are hidden from
    screen readers and come with visually hidden text (aria-label on a span
    without a role is not reliably read)."""
    body = verified_client(app_admin_a).get("/beheer/rollen/").content.decode()
    assert "aria-label" not in re.sub(r"<nav[^>]*>", "", body)
    assert '<span aria-hidden="true">✔</span><span class="visually-hidden">' in body
    assert '<span aria-hidden="true">–</span><span class="visually-hidden">' in body


def test_session_end_buttons_name_their_session(verified_client, teacher_a):
    """WCAG 2.4.6, 4.1.2: each "End" button says which session it ends, by
    the sign-in time shown in its row, in visually hidden text."""
    others = [verified_client(teacher_a) for _day in (3, 4)]
    for day, other in zip((3, 4), others, strict=True):
        StaffSession.objects.filter(session_key=other.cookies["sessionid"].value).update(
            signed_in_at=datetime.datetime(2026, 11, day, 8, 30, tzinfo=datetime.UTC)
        )
    body = verified_client(teacher_a).get("/accounts/security/").content.decode()
    labelled = []
    for shown, rest in re.findall(r"<tr>\s*<td>([^<]*)</td>(.*?)</tr>", body, re.S):
        hidden = re.search(r'<button[^>]*>[^<]*<span class="visually-hidden">([^<]*)</span></button>', rest)
        if hidden:
            labelled.append((shown.strip(), hidden.group(1)))
    assert len(labelled) == 2
    for shown, hidden in labelled:
        assert shown and shown in hidden
    assert labelled[0][1] != labelled[1][1]
