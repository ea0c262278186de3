"""Generated bad input against every form of the portal and both imports (S-16).

One table, FORMS, lists each POST endpoint that takes a form: the URL, the
role that may use it, and where its form is found. The fields are read from
the form itself, so a field added later is fuzzed without a change here. Per
row, hypothesis posts input that is wrong in at least one field (text with
NUL bytes or unicode digits such as '²', strings beyond the maximum length,
empty or missing required fields, non-choices, non-dates, huge numbers,
lists where one value is expected, unknown extra fields) and checks:

* never a 500 (the test client raises the view's exception);
* the answer is the form again with its errors shown on the page, or the
  view's own refusal (a redirect with a message, a 400);
* nothing is stored: no row count of any table changes (the audit log
  included) and the edited object is unchanged.

POST endpoints without fields (buttons such as "log out" or "publish") are
listed in ACTIONS and get junk fields; `test_every_post_url_is_listed` fails
when a URL of the URLconf that reads POST data is in neither, so a new form
cannot ship unfuzzed. The filters sent by GET get junk too (GET_FORMS).
tests/test_imports.py fuzzes the structure of import files; here the two
imports get well-formed files with one bad cell, through the commands, where
all or nothing must hold. FOUND keeps the defects this file found as fixed
examples.

S16_EXAMPLES=200 runs many more examples per form, for a hunt.
"""

import datetime
import inspect
import io
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django import forms
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from breaches.models import Breach
from consent import parents
from consent.models import ConsentCategory, Publication, PublicationPupil
from disclosures.models import Disclosure, Recipient
from disclosures.rights.models import ParentRequest
from privacy_admin.actions import LOCKED_KEY
from privacy_admin.models import School, StaffTOTPDevice, User
from privacy_admin.roles import SchoolRole
from retention.models import RetentionRule
from students import imports
from students.models import Guardian, GuardianLink, Pupil
from students.validators import validate_bsn
from tests.conftest import _session_client, make_staff
from tests.rights.conftest import parent_client
from tests.students.conftest import pupil_a5  # noqa: F401 - a fixture `world` needs
from tests.students.test_access_table import TABLE, world  # noqa: F401 - `world` is a fixture
from tests.test_gate import URLS, _row_counts
from tests.test_imports import (  # noqa: F401 - `imported` and `groups_a` are fixtures
    BSN_1,
    BSN_2,
    brp_row,
    groups_a,
    imported,
    make_csv,
    pupil_row,
    second_pupil,
)

# The suite must stay fast (STYLE 12); S16_EXAMPLES raises it for a hunt.
EXAMPLES = int(os.environ.get("S16_EXAMPLES", "5"))
GENERATED = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
TODAY = timezone.localdate()
MISSING = object()  # a field left out of the POST altogether

# --- values -------------------------------------------------------------------------------

# Text a person or a script might send anywhere: unicode digits and
# superscripts (int('²') fails, '²'.isdigit() is true), full-width and
# Arabic-Indic digits, control characters, markup, formulas, huge numbers.
NASTY = [
    "",
    " ",
    "²",
    "²³¹",
    "١٢٣",
    "１２３",
    "x" * 5000,
    "9" * 400,
    str(2**64),
    "-1",
    "0",
    "1e309",
    "NaN",
    "-Infinity",
    "'; DROP TABLE students_pupil; --",
    "<script>alert(1)</script>",
    "{{ 7|add:7 }}",
    '=HYPERLINK("http://x")',
    "\u202eevil",
    "😀",
    "\r\n",
    "null",
    "[]",
]
# Digits of other scripts: str.isdigit() says yes to all of them, int()
# refuses the superscripts and reads the others as ASCII digits.
UNICODE_DIGITS = "²³¹⁰⁴⁵٠١٢٣٤٥٦٧٨٩۱۲۳०१२३০১২０１２３４５６７８９"


def digits_like(size):
    """`size` characters that look like digits, at least one not ASCII."""
    return st.text(alphabet="0123456789" + UNICODE_DIGITS, min_size=size, max_size=size).filter(
        lambda v: not v.isascii()
    )


junk = st.one_of(
    st.sampled_from(NASTY), st.text(max_size=40), st.text(alphabet=UNICODE_DIGITS + "0123456789", max_size=12)
)
with_nul = st.text(max_size=8).map(lambda t: f"{t}\x00x")
# Values that no integer key, date or choice accepts.
NOT_A_NUMBER = ["abc", "1.5", "²", "٣x", "0x10", "1e5", "\x00", "--1", "1,000,000x"]
NOT_A_DATE = ["2024-02-30", "2024-13-01", "31/31/2024", "x", "9" * 400, "\x00", "²⁰²⁴-01-01", "0000-00-00"]
NOT_A_TIME = ["25:61", "x", "\x00", "²:00", "9" * 40]
# Over Django's DATA_UPLOAD_MAX_MEMORY_SIZE: the answer is a 400, nothing read.
TOO_BIG = "z" * (3 * 1024 * 1024)
PDF = b"%PDF-1.4\n%test\n"


def upload(content, name="file.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


bad_upload = st.one_of(
    st.binary(max_size=60).filter(lambda b: not b.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff"))),
    st.just(b""),
).map(lambda b: upload(b, name="file.exe", content_type="application/octet-stream"))
good_upload = st.just(PDF).map(upload)


def as_list(strategy):
    """Lists where one value is expected: the form reads the last one, so
    the list is as (in)valid as its last item."""
    return st.tuples(st.lists(junk, max_size=2), strategy).map(lambda t: t[1] if t[1] is MISSING else [*t[0], t[1]])


@dataclass
class Spec:
    """How to fill one field: `good` values (valid on their own), `bad`
    ones (always refused by this field) or None when nothing is always
    refused (an optional checkbox), and whether it takes a list."""

    name: str
    good: st.SearchStrategy
    bad: st.SearchStrategy | None
    multiple: bool = False
    file: bool = False


def _choice_keys(field):
    keys = []
    for key, label in field.choices:
        if isinstance(label, list | tuple):
            keys.extend(str(k) for k, _label in label)
        else:
            keys.append(str(key))
    return [k for k in keys if k != ""]


def _model_keys(field, limit=5):
    key = field.to_field_name or "pk"
    return [str(v) for v in field.queryset.values_list(key, flat=True)[:limit]]


def _required_bad(field, *extra):
    return [*([MISSING, ""] if field.required else []), *extra]


def spec_for(name, field):
    """Good and bad values for a form field, from its type and limits."""
    required = field.required
    if isinstance(field, forms.FileField):
        bad = st.sampled_from([MISSING, "not a file"]) if required else None
        return Spec(name, good_upload, bad, file=True)
    if isinstance(field, forms.BooleanField):
        good = st.sampled_from(["on"] if required else ["on", "", MISSING])
        bad = st.sampled_from([MISSING, "", "false"]) if required else None
        return Spec(name, good, bad)
    if isinstance(field, forms.ModelMultipleChoiceField):
        keys = _model_keys(field)
        good = st.lists(st.sampled_from(keys), unique=True, max_size=3) if keys else st.just([])
        wrong = st.sampled_from(NOT_A_NUMBER + ["999999999", "9" * 30, "-1"])
        bad = st.tuples(good, wrong).map(lambda t: [*t[0], t[1]])
        if required:
            bad = st.one_of(bad, st.just([]))
        return Spec(name, good, bad, multiple=True)
    if isinstance(field, forms.ModelChoiceField):
        keys = _model_keys(field)
        good = st.sampled_from(keys) if keys else st.just("")
        bad = st.sampled_from(_required_bad(field, *NOT_A_NUMBER, "999999999", "9" * 30, "-1"))
        return Spec(name, good, st.one_of(bad, as_list(bad)))
    if isinstance(field, forms.MultipleChoiceField):
        keys = _choice_keys(field)
        good = st.lists(st.sampled_from(keys), unique=True, min_size=1 if required else 0, max_size=3)
        bad = st.tuples(good, st.sampled_from(["not-a-choice", "\x00", "²", "x" * 300])).map(lambda t: [*t[0], t[1]])
        if required:
            bad = st.one_of(bad, st.just([]))
        return Spec(name, good, bad, multiple=True)
    if isinstance(field, forms.ChoiceField):
        keys = _choice_keys(field)
        good = st.sampled_from(keys) if keys else st.just("")
        wrong = [v for v in ["not-a-choice", "\x00", "²", "x" * 300, "9" * 30] if v not in keys]
        bad = st.sampled_from(_required_bad(field, *wrong))
        return Spec(name, good, st.one_of(bad, as_list(bad)))
    if isinstance(field, forms.DateTimeField):
        good = st.sampled_from(
            [f"{TODAY.isoformat()} 10:00", f"{(TODAY - datetime.timedelta(days=2)).isoformat()} 09:30"]
        )
        bad = st.sampled_from(_required_bad(field, *NOT_A_DATE, f"{TODAY.isoformat()} 25:61"))
        return Spec(name, good, st.one_of(bad, as_list(bad)))
    if isinstance(field, forms.DateField):
        days = [0, 1, 7, 30, 365, 8 * 365]
        good = st.sampled_from([(TODAY - datetime.timedelta(days=d)).isoformat() for d in days])
        bad = st.sampled_from(_required_bad(field, *NOT_A_DATE))
        return Spec(name, good, st.one_of(bad, as_list(bad)))
    if isinstance(field, forms.TimeField):
        good = st.sampled_from(["10:00", "14:30"])
        bad = st.sampled_from(_required_bad(field, *NOT_A_TIME))
        return Spec(name, good, st.one_of(bad, as_list(bad)))
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        low = field.min_value if field.min_value is not None else 0
        high = field.max_value if field.max_value is not None else low + 100
        good = st.integers(int(low), int(high)).map(str)
        fractions = isinstance(field, forms.FloatField | forms.DecimalField)
        wrong = [v for v in NOT_A_NUMBER if not (fractions and v in ("1.5", "1e5"))]
        wrong += ["NaN", "Infinity"]
        if isinstance(field, forms.DecimalField) and field.decimal_places is not None:
            wrong.append("1." + "1" * (field.decimal_places + 1))
        if field.min_value is not None:
            wrong.append(str(field.min_value - 1))
        wrong.append(str(field.max_value + 1) if field.max_value is not None else "9" * 400)
        bad = st.sampled_from(_required_bad(field, *wrong))
        return Spec(name, good, st.one_of(bad, as_list(bad)))
    if isinstance(field, forms.CharField):
        return _text_spec(name, field)
    raise AssertionError(f"no strategy for {name}: {type(field).__name__}; add one to spec_for")


def _text_spec(name, field):
    limit = field.max_length
    if isinstance(field, forms.EmailField):
        good = st.sampled_from(["ouder@example.org", "a.b@school.example.nl"])
        extra = ["not-an-email", "a@", "@example.org"]
    elif isinstance(field, forms.RegexField):
        good = st.from_regex(field.regex, fullmatch=True).filter(lambda v: 0 < len(v) <= (limit or 50) and v.strip())
        extra = ["☃☃☃"]
    elif validate_bsn in field.validators:
        good = st.just("123456782")
        extra = ["123456789", "12345678", "1234567890"]
    else:
        good = st.sampled_from(["Tekst", "Jansen", "Een korte zin."])
        extra = []
    if limit:
        good = good.filter(lambda v: len(v) <= limit)
        extra.append("y" * (limit + 1))
    if field.required and field.strip:
        extra.append("   ")
    extra.append(TOO_BIG)
    bad = st.one_of(with_nul, st.sampled_from(_required_bad(field, *extra)))
    if validate_bsn in field.validators:
        bad = st.one_of(bad, digits_like(9))
    return Spec(name, good, st.one_of(bad, as_list(bad)))


def specs_of(form, overrides):
    specs = []
    for name, form_field in form.fields.items():
        if form_field.disabled:
            continue
        html_name = form.add_prefix(name)
        if name in overrides:
            good, bad = overrides[name]
            specs.append(Spec(html_name, good, bad, file=isinstance(form_field, forms.FileField)))
        else:
            specs.append(spec_for(html_name, form_field))
    return specs


@st.composite
def bad_posts(draw, specs, extra):
    """POST data with at least one field that its form must refuse."""
    forced = draw(st.sampled_from([s for s in specs if s.bad is not None]))
    data = {}
    for spec in specs:
        if spec is forced:
            value = draw(spec.bad)
        else:
            how = draw(st.sampled_from(["good", "good", "any", "missing"]))
            if how == "good":
                value = draw(spec.good)
            elif how == "missing":
                value = MISSING
            elif spec.file:
                value = draw(st.one_of(good_upload, bad_upload))
            elif spec.multiple:
                value = draw(st.lists(junk, max_size=3))
            else:
                value = draw(st.one_of(junk, as_list(junk), with_nul))
        if value is not MISSING:
            data[spec.name] = value
    for name, strategy in extra.items():
        value = draw(strategy)
        if value is not MISSING:
            data[name] = value
    # A browser always sends the CSRF token (checked in tests/test_csrf.py):
    # so a form with every field left out is still a bound, empty form.
    data["csrfmiddlewaretoken"] = "t" * 64
    # Fields no form knows of are ignored, whatever they hold.
    data.update(draw(st.dictionaries(st.text(max_size=6).map(lambda k: f"junk_{k}"), junk, max_size=2)))
    return data


# --- checking the answer --------------------------------------------------------------------


def _contexts(response):
    if response.context is None:
        return []
    return list(response.context) if isinstance(response.context, list) else [response.context]


def _bound_forms(response):
    found = []

    def visit(value, depth):
        if isinstance(value, forms.BaseForm):
            if value.is_bound and value not in found:
                found.append(value)
        elif depth < 3 and isinstance(value, list | tuple):
            for item in value:
                visit(item, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for item in value.values():
                visit(item, depth + 1)
        elif depth < 3 and isinstance(getattr(value, "form", None), forms.BaseForm):
            visit(value.form, depth + 1)

    for context in _contexts(response):
        for value in context.flatten().values():
            visit(value, 0)
    return found


def _error_texts(form):
    """(errors the page must show, errors of hidden fields): a hidden field
    is wrong only when the page was tampered with, and then a message that
    the form was refused is enough."""
    hidden = {bound.name for bound in form.hidden_fields()}
    shown = [str(e) for name, errors in form.errors.items() if name not in hidden for e in errors]
    tampered = [str(e) for name, errors in form.errors.items() if name in hidden for e in errors]
    return shown, tampered


def messages_of(response):
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


def assert_refused(row, response, before, snapshot_before, snapshot):
    """The bad input was refused with a message shown, and nothing was stored."""
    status = response.status_code
    assert status != 500
    assert status in row.refusal, (row.id, status, response.get("Location"))
    if status == 200:
        html = response.content.decode()
        shown, tampered = [], []
        for form in _bound_forms(response):
            form_shown, form_tampered = _error_texts(form)
            shown += form_shown
            tampered += form_tampered
        shown += [text for level, text in messages_of(response) if level >= 30]  # WARNING and ERROR
        assert shown or tampered, f"{row.id}: the page came back without an error"
        missing = [t for t in shown if escape(t) not in html]
        assert not missing, f"{row.id}: errors not shown on the page: {missing}"
        assert any(escape(t) in html for t in shown + tampered), f"{row.id}: no error shown: {tampered}"
    elif status == 302:
        assert messages_of(response), f"{row.id}: a redirect without a message"
    after = _counts()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k] and k not in row.may_change}
    assert not changed, f"{row.id}: stored from a rejected input: {changed}"
    assert snapshot() == snapshot_before, f"{row.id}: the edited object changed"


def _counts():
    return {k: v for k, v in _row_counts().items() if "Session" not in k}


# --- the table ------------------------------------------------------------------------------


@dataclass
class Row:
    """A form posted to `name` by `role`. `form` finds the form: a context
    key of the GET page of the same URL (the default), or a callable
    (client, objects) -> form. `refusal`: the answers to a refused input.
    `may_change`: tables a refused input may write to (e.g. the audit row of
    a page that is shown again and is a read of the dossier)."""

    name: str
    role: str
    kwargs: dict = None
    variant: str = ""
    form: object = "form"
    overrides: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    refusal: tuple = (200, 400)
    may_change: frozenset = frozenset()

    @property
    def id(self):
        return f"{self.name}[{self.variant}]" if self.variant else self.name


def key(*context_keys):
    """The first form found under these context keys of the GET page."""

    def find(client, url, objects):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        for context_key in context_keys:
            for context in _contexts(response):
                if context_key in context and isinstance(context[context_key], forms.BaseForm):
                    return [context[context_key]]
        raise AssertionError(f"no form under {context_keys} at {url}")

    return find


def forms_at(name, kwargs, *context_keys):
    """The forms under `context_keys` of another page (a POST-only URL's form
    is shown on the page it belongs to)."""

    def find(client, url, objects):
        response = client.get(reverse(name, kwargs=_kwargs(kwargs, objects)))
        assert response.status_code == 200, (name, response.status_code)
        found = []
        for context_key in context_keys:
            for context in _contexts(response):
                if context_key in context and isinstance(context[context_key], forms.BaseForm):
                    found.append(context[context_key])
                    break
        assert found, (name, context_keys)
        return found

    return find


def _one_off_form(client, url, objects):
    response = client.get(reverse("publication_detail", kwargs={"publication_id": objects["publication"]}))
    found = [form for _check, _appearance, form in response.context["rows"] if form is not None]
    assert found, "the website publication has no pupil waiting for a one-off consent"
    return found[:1]


def _pupils_form(client, url, objects):
    from consent.forms_publications import PupilsForm
    from students.models import Pupil

    return [PupilsForm(pupils=Pupil.objects.filter(school_id=objects["school_a"]))]


def _preferences_form(client, url, objects):
    response = client.get(reverse("parent_home"))
    found = [child.form for child in response.context["children"] if getattr(child, "form", None) is not None]
    assert found
    return found[:1]


class _Payload(forms.Form):
    payload = forms.CharField()


def _payload_form(client, url, objects):
    return [_Payload()]


PUPIL = {"pupil_id": "@pupil"}
payloads = st.one_of(junk, st.text(alphabet="abcdefABCDEF0123456789:-_=", max_size=80))
BRP_HEADER = ",".join(imports.BRP_COLUMNS).encode() + b"\n"
# A file the upload form refuses: not text (a NUL byte), not CSV, or none.
BRP_BAD_FILES = st.one_of(
    st.binary(max_size=100).map(lambda b: upload(BRP_HEADER + b + b"\x00", name="brp.csv", content_type="text/csv")),
    st.just(PDF).map(lambda b: upload(b, name="brp.pdf")),
    st.just(MISSING),
)
BRP_GOOD_FILES = st.just(BRP_HEADER).map(lambda b: upload(b, name="brp.csv", content_type="text/csv"))
# A code of six digit-like characters passes the form and is refused as a
# wrong code, which is counted (S-3): the failure and its audit row.
CODE = {
    "code": (
        st.just("123456"),
        st.one_of(digits_like(6), with_nul, st.sampled_from(["", "   ", "1" * 21]), as_list(digits_like(6))),
    )
}
COUNTED = frozenset({"privacy_admin.AuthFailure", "privacy_admin.AuditEvent"})
CONFIRM = st.sampled_from(["1", "", MISSING, "x"])
READ = frozenset({"privacy_admin.AuditEvent"})  # a page shown again reads the dossier (S-21)

FORMS = [
    # Sign-in and the own account
    Row("login", "anonymous"),
    Row("otp_verify", "password_only", overrides=CODE, may_change=COUNTED),
    Row("otp_setup", "no_device", overrides=CODE, may_change=COUNTED),
    Row("lock", "locked", overrides=CODE, may_change=COUNTED),
    Row("step_up", "teacher_a", overrides=CODE, may_change=COUNTED),
    Row("password_reset", "anonymous"),
    Row("password_reset_confirm", "anonymous", form="reset_token"),
    Row("password_change", "teacher_a"),
    # Application admin
    Row("staff_invite", "app_admin_a"),
    Row("staff_detail", "app_admin_a"),
    Row("grant_assignments", "director_a"),
    Row("grant_involvements", "director_a"),
    Row("brp_import", "app_admin_a", overrides={"file": (BRP_GOOD_FILES, BRP_BAD_FILES)}),
    Row(
        "brp_import_confirm",
        "app_admin_a",
        form=_payload_form,
        overrides={"payload": (payloads, payloads)},
        refusal=(302, 400),
    ),
    # Pupils and dossiers
    Row("pupil_find_by_bsn", "app_admin_a", form=forms_at("pupil_search", {}, "bsn_form"), refusal=(302, 400)),
    Row("application_new", "director_a"),
    Row("pupil_edit", "director_a"),
    Row("enrolment_edit", "director_a"),
    Row("paper_dossier_edit", "director_a"),
    Row("guardian_add", "director_a"),
    Row("guardian_edit", "director_a"),
    Row("document_add", "director_a"),
    *[
        Row("record_add", "director_a", kwargs={**PUPIL, "record_type": t}, variant=t)
        for t in ("contact", "enrolment_event", "attendance", "funding", "support", "health", "progress")
        + ("conversation", "agreement")
    ],
    Row("record_edit", "director_a"),
    # Consent
    Row(
        "dossier_consent_entry",
        "director_a",
        form=forms_at("dossier_consent", PUPIL, "entry_form", "upload_form"),
        # The scan is optional: a file that is not PDF, PNG or JPEG is refused.
        overrides={"file": (good_upload, bad_upload)},
    ),
    Row("consent_category_add", "director_a"),
    Row("consent_category_edit", "director_a"),
    Row("consent_reminder_date", "director_a"),
    Row("publication_new", "director_a"),
    Row("publication_edit", "director_a"),
    Row("publication_detail", "director_a", form=_pupils_form),
    Row("publication_one_off", "director_a", form=_one_off_form),
    # The parents' portal
    Row("parent_login", "anonymous"),
    Row("parent_login_code", "parent_pending"),
    Row("parent_preferences", "parent", form=_preferences_form),
    Row("parent_request_new", "parent"),
    Row(
        "parent_disclosure_report",
        "parent",
        kwargs={**PUPIL, "disclosure_id": "@transfer"},
        may_change=READ,
    ),
    # Disclosures and their reports
    *[
        Row("disclosure_new", "director_a", kwargs={"kind": kind}, variant=kind, extra={"confirm": CONFIRM})
        for kind in ("vaste-ontvanger", "toestemming", "verwerker", "inspectie")
    ],
    *[
        Row("disclosure_pupil_new", "director_a", kwargs={**PUPIL, "kind": kind}, variant=kind)
        for kind in ("noodgeval", "overdracht", "melding")
    ],
    Row("disclosure_decide", "director_a"),
    Row("disclosure_review", "director_a"),
    Row("recipient_add", "director_a"),
    Row("recipient_edit", "director_a"),
    Row("nco_export", "director_a"),
    Row("leerplicht_report", "director_a"),
    # Parents' requests
    Row("rights_request_schedule", "director_a"),
    Row("rights_request_extend", "director_a", kwargs={"request_id": "@rights_correct"}),
    Row("rights_request_refuse", "director_a"),
    Row("rights_request_complete", "director_a"),
    Row("rights_correction_edit", "director_a", may_change=READ),
    Row("rights_viewing_held", "director_a"),
    # Retention and legal holds
    Row("retention_confirm", "app_admin_a"),
    Row("retention_mode", "app_admin_a"),
    Row("retention_rule_edit", "app_admin_a", extra={"step": st.sampled_from(["save", "", "preview", MISSING, "x"])}),
    Row("legal_hold_new", "director_a"),
    # The privacy statement
    Row("statement_text_edit", "director_a"),
    # Data breaches
    Row("breach_report", "teacher_a"),
    *[
        Row("breach_step", "fg", kwargs={"breach_id": f"@breach_{step}", "step": step}, variant=step)
        for step in ("assess", "decide", "ap", "people", "close")
    ],
]

ROWS_BY_NAME = {}
for _row in FORMS:
    ROWS_BY_NAME.setdefault(_row.name, []).append(_row)


def _kwargs(spec, objects):
    return {k: (objects[v[1:]] if isinstance(v, str) and v.startswith("@") else v) for k, v in spec.items()}


# --- clients --------------------------------------------------------------------------------


def client_for(role, objects):
    cast = objects["cast"]
    if role == "anonymous":
        return Client()
    if role == "password_only":
        return _session_client(cast["teacher_a"], verified=False)
    if role == "no_device":
        user = make_staff("new_teacher_a", school=cast["teacher_a"].memberships.first().school, role=SchoolRole.TEACHER)
        StaffTOTPDevice.objects.filter(user=user).delete()
        return _session_client(user, verified=False)
    if role == "locked":
        client = _session_client(cast["teacher_a"], verified=True)
        session = client.session
        session[LOCKED_KEY] = True
        session.save()
        return client
    if role == "parent":
        return parent_client(objects["parent_email"])
    if role == "parent_pending":
        client = Client()
        session = client.session
        session[parents.PENDING_EMAIL_KEY] = objects["parent_email"]
        session.save()
        return client
    return _session_client(cast[role], verified=True)


def _reset_token_form(client, url, objects):
    """The set-password form behind a real reset link: Django moves the token
    into the session and answers on .../set-password/."""
    response = client.get(url, follow=True)
    assert response.status_code == 200 and response.context["validlink"], response.redirect_chain
    objects["_url"] = response.redirect_chain[-1][0]
    return [response.context["form"]]


@pytest.fixture
def objects(world):  # noqa: F811 - the fixture imported above
    """The shared world of the authorisation matrix, and what its rows do not need."""
    teacher = world["cast"]["teacher_a"]
    pupil = Pupil.objects.get(pk=world["pupil"])
    mother = Guardian.objects.create(first_name="Marieke", last_name="Vijfje", email="marieke.vijfje@example.org")
    GuardianLink.objects.create(pupil=pupil, guardian=mother, has_authority=True)
    world["parent_email"] = mother.email
    breach = Breach.objects.get(pk=world["breach"])
    world["breach_assess"] = world["breach_decide"] = breach.pk
    for step, state, ap_notify in (
        ("ap", Breach.State.DECIDED, True),
        ("people", Breach.State.AP_NOTIFIED, True),
        ("close", Breach.State.PEOPLE_TOLD, False),
    ):
        breach.pk = None
        breach.state, breach.ap_notify = state, ap_notify
        breach.save()
        world[f"breach_{step}"] = breach.pk
    world["reset_uid"] = urlsafe_base64_encode(force_bytes(teacher.pk))
    world["reset_token"] = default_token_generator.make_token(teacher)
    return world


def _url_for(row, objects):
    spec = row.kwargs if row.kwargs is not None else TABLE[row.name][0]
    if row.name == "password_reset_confirm":
        spec = {"uidb64": "@reset_uid", "token": "@reset_token"}
    return reverse(row.name, kwargs=_kwargs(spec, objects))


# The model of the object a URL names, by the name of its argument.
URL_OBJECTS = {
    "pupil_id": Pupil,
    "user_id": User,
    "school_id": School,
    "link_id": GuardianLink,
    "breach_id": Breach,
    "publication_id": Publication,
    "category_id": ConsentCategory,
    "disclosure_id": Disclosure,
    "recipient_id": Recipient,
    "request_id": ParentRequest,
    "rule_id": RetentionRule,
    "appearance_id": PublicationPupil,
}


def _snapshot(found, url):
    """The stored values of the objects the forms edit and the URL names."""
    targets = [(type(f.instance), f.instance.pk) for f in found if isinstance(f, forms.ModelForm) and f.instance.pk]
    kwargs = resolve(urlsplit(url).path).kwargs
    targets += [(URL_OBJECTS[name], value) for name, value in kwargs.items() if name in URL_OBJECTS]
    # A record is the ModelForm's instance, taken above; the rest name no object.
    others = {"record_id", "record_type", "kind", "step", "part", "uidb64", "token"}
    unknown = set(kwargs) - set(URL_OBJECTS) - others
    assert not unknown, f"add the model of {unknown} to URL_OBJECTS"

    def take():
        return [model.objects.filter(pk=pk).values().first() for model, pk in targets]

    return take


@pytest.mark.parametrize("row", FORMS, ids=lambda r: r.id)
def test_generated_bad_input_is_refused_and_stores_nothing(row, objects, settings):
    """S-16: bad input to this form: never a 500, the form again with a clear
    message (or the view's own refusal), nothing stored."""
    # Wrong codes are counted; the throttle that ends a locked session after
    # a few has its own tests (tests/test_auth.py) and would end this one.
    settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS = settings.LOGIN_FAILURES_PER_USER = 10**6
    settings.LOGIN_FAILURES_PER_ADDRESS = 10**6
    client = client_for(row.role, objects)
    url = _url_for(row, objects)
    if row.form == "reset_token":
        found = _reset_token_form(client, url, objects)
        url = objects["_url"]
    elif callable(row.form):
        found = row.form(client, url, objects)
    else:
        found = key(row.form)(client, url, objects)
    specs = [s for form in found for s in specs_of(form, row.overrides)]
    snapshot = _snapshot(found, url)

    @GENERATED
    @given(data=bad_posts(specs, row.extra))
    def post_bad_input(data):
        before, snapshot_before = _counts(), snapshot()
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(url, data)
        assert_refused(row, response, before, snapshot_before, snapshot)

    post_bad_input()


# --- defects this file found, kept fixed -----------------------------------------------------

FOUND = [
    # (URL name, role, data, answer, text on the page or in the message)
    # int('²') raised ValueError in the eleven test: a 500 (students/validators.py).
    ("pupil_find_by_bsn", "app_admin_a", {"bsn": "²" * 9}, 302, "not a valid BSN"),
    # Other scripts' digits passed the eleven test and were stored as a BSN.
    ("application_new", "director_a", {"bsn": "١١١٢٢٢٣٣٣"}, 200, "not a valid BSN"),
    # The same in the authenticator's code check (privacy_admin/models/accounts.py).
    ("step_up", "teacher_a", {"code": "²²²²²²"}, 200, "This code is not correct"),
    ("otp_verify", "password_only", {"code": "²" * 6}, 200, "This code is not correct"),
    # A pupil key beyond 64 bits: OverflowError on SQLite (students/forms.py IdsChoiceField).
    ("publication_detail", "director_a", {"pupils": ["9" * 30]}, 200, "is not a valid value"),
    ("grant_assignments", "director_a", {"pupils": ["9" * 30], "school": "@school_a"}, 200, "is not a valid value"),
    # An error of a hidden field was not shown at all (templates/form_fields.html).
    ("grant_assignments", "director_a", {"school": "abc"}, 200, "School: Select a valid choice"),
]


@pytest.mark.parametrize("name,role,data,status,text", FOUND, ids=[f[0] for f in FOUND])
def test_found_defects_stay_fixed(name, role, data, status, text, objects):
    """S-16: the defects the generated input found, as fixed examples."""
    client = client_for(role, objects)
    url = reverse(name, kwargs=_kwargs(TABLE[name][0], objects))
    data = {k: (str(objects[v[1:]]) if isinstance(v, str) and v.startswith("@") else v) for k, v in data.items()}
    before = _counts()
    response = client.post(url, {**data, "csrfmiddlewaretoken": "t" * 64})
    assert response.status_code == status
    shown = response.content.decode() + " ".join(text for _level, text in messages_of(response))
    assert escape(text) in shown or text in shown
    changed = {k for k in before if before[k] != _counts()[k]}
    assert changed <= COUNTED


# --- filters: forms sent by GET ---------------------------------------------------------------

# URL name -> (role, context key of its GET form or None, query parameters
# the view reads itself). Junk in a filter shows the page unfiltered or the
# form with its error (a school or format that is not there: 404); a GET
# never stores anything (exports and reads of disclosed data write their
# audit row).
GET_FORMS = {
    "pupil_search": ("teacher_a", "form", ["page"]),
    "publication_detail": ("director_a", "group_form", ["oneoff"]),
    "rights_request_list": ("director_a", "form", []),
    "disclosure_list": ("director_a", "form", ["page"]),
    "disclosure_new": ("director_a", None, ["school"]),  # another school's: 404
    "retention_overview": ("app_admin_a", "form", []),
    "retention_due_pupils": ("app_admin_a", "form", ["page"]),
    "retention_confirm": ("app_admin_a", None, ["as_of"]),
    "statement_diff": ("fg", "form", []),
    "breach_register": ("fg", "form", []),
    "breach_export": ("fg", None, ["school", "state", "notified", "month"]),
    "staff_list": ("app_admin_a", None, ["filter"]),
    "audit_log": ("app_admin_a", None, ["page"]),
    "leerplicht_list": ("director_a", None, ["school_year"]),
    "leerplicht_report": ("director_a", None, ["school_year"]),
    "rights_correction_list": ("director_a", None, ["part"]),
    "disclosure_data": ("director_a", None, ["format"]),
    "processing_register": ("director_a", None, ["format"]),
}


NOT_FOUND = {"disclosure_new", "disclosure_data", "processing_register"}  # a school or format not there


@pytest.mark.parametrize("name", sorted(GET_FORMS))
def test_generated_junk_in_filters_never_fails(name, objects):
    """S-16: junk in a filter form or a query parameter: never a 500, the
    page again (or a 404 for a format that does not exist), nothing stored."""
    role, context_key, params = GET_FORMS[name]
    client = client_for(role, objects)
    url = reverse(name, kwargs=_kwargs(TABLE[name][0], objects))
    specs = [spec_for(p, forms.CharField(required=False)) for p in params]
    if context_key is not None:
        specs += specs_of(key(context_key)(client, url, objects)[0], {})
    may_change = {"privacy_admin.AuditEvent"} if name in ("breach_export", "disclosure_data") else set()

    @hsettings(GENERATED, max_examples=min(EXAMPLES, 5) if EXAMPLES <= 15 else EXAMPLES)
    @given(data=bad_posts(specs, {}))
    def get_junk(data):
        data.pop("csrfmiddlewaretoken")
        before = _counts()
        response = client.get(url, data)
        assert response.status_code in ((200, 404) if name in NOT_FOUND else (200,)), response.status_code
        after = _counts()
        assert {k for k in before if before[k] != after[k]} <= may_change

    get_junk()


# --- POST endpoints without fields ----------------------------------------------------------

# URL name -> (role, why it has no form to fuzz). Junk posted to them is
# ignored; tests/students/test_access_table.py::test_post_matrix checks
# their answers per role.
ACTIONS = {
    "logout": ("teacher_a", "a button: ends the session"),
    "parent_logout": ("parent", "a button: ends the parent's session"),
    "session_end": ("teacher_a", "a button per session; the session is named in the URL"),
    "sessions_end_others": ("teacher_a", "a button"),
    "backup_codes_new": ("teacher_a", "a button (after the step-up)"),
    "second_factor_replace": ("teacher_a", "a button (after the step-up)"),
    "staff_role_revoke": ("app_admin_a", "a button per role; the role is named in the URL"),
    "staff_set_active": ("app_admin_a", "a button; active=1 activates, anything else deactivates"),
    "staff_second_factor_reset": ("app_admin_a", "a button (after the step-up)"),
    "grant_assignment_end": ("director_a", "a button per assignment"),
    "grant_involvement_end": ("director_a", "a button per involvement"),
    "parent_invite": ("director_a", "a button per parent"),
    "publication_publish": ("director_a", "a button"),
    "publication_take_down": ("director_a", "a button; back=list returns to the list, else to the publication"),
    "recipient_seed": ("director_a", "a button"),
    "legal_hold_lift": ("director_a", "a button"),
    "rights_correction_remove": ("director_a", "a confirmation button"),
    "set_language": ("teacher_a", "Django's own view: an unknown language or next is ignored"),
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_generated_junk_to_buttons_is_harmless(name, objects):
    """S-16: junk fields posted to a button never cause a 500."""
    role, _why = ACTIONS[name]
    client = client_for(role, objects)
    url = reverse(name, kwargs=_kwargs(TABLE[name][0], objects))
    field_names = st.sampled_from(["active", "back", "language", "next", "payload", "confirm", "junk"])

    @hsettings(GENERATED, max_examples=min(EXAMPLES, 5) if EXAMPLES <= 15 else EXAMPLES)
    @given(data=st.dictionaries(field_names, st.one_of(junk, as_list(junk), with_nul), max_size=3))
    def post_junk(data):
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(url, data)
        assert response.status_code in (200, 302, 400, 403, 404), (name, response.status_code)

    post_junk()


# --- every POST URL is covered --------------------------------------------------------------

PROJECT = ("privacy_admin.", "students.", "consent.", "disclosures.", "retention.", "statement.", "breaches.")


def _callbacks(resolver=None, namespaces=()):
    """(view name, callback) of every pattern of the URLconf."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _callbacks(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield ":".join((*namespaces, entry.name)), entry.callback


def _code_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _code_names(const)
    return names


def reads_post(callback):
    """Whether a view reads POST data or takes only POST: the view, the
    functions its decorators wrap, a class-based view's methods, and the
    project's functions it calls by name, followed to the end."""
    seen, todo = [], [callback]
    while todo:
        func = todo.pop()
        if any(func is s for s in seen):
            continue
        seen.append(func)
        view_class = getattr(func, "view_class", None)
        if view_class is not None:
            todo += [v for klass in view_class.__mro__ for v in vars(klass).values() if inspect.isfunction(v)]
            continue
        if not inspect.isfunction(func):
            continue
        names = _code_names(func.__code__)
        if {"POST", "FILES"} & names:
            return True
        for cell in func.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, list | tuple) and "POST" in value:
                return True  # require_POST, require_http_methods(["GET", "POST"])
            if inspect.isfunction(value):
                todo.append(value)
        if getattr(func, "__wrapped__", None) is not None:
            todo.append(func.__wrapped__)
        for name in names:
            value = func.__globals__.get(name)
            if inspect.isfunction(value) and value.__module__.startswith(PROJECT):
                todo.append(value)
    return False


def test_post_detection_sees_forms_buttons_and_get_only_pages():
    """The detection below finds a form, a button and Django's class-based
    form views, and leaves a GET-only page out."""
    views = dict(_callbacks())
    assert reads_post(views["staff_invite"]) and reads_post(views["logout"]) and reads_post(views["password_change"])
    assert reads_post(views["recipient_add"])  # the form is in a helper
    assert not reads_post(views["dossier"]) and not reads_post(views["password_reset_done"])


def test_every_post_url_is_listed():
    """S-16: every URL whose view reads POST data is fuzzed in FORMS or listed
    in ACTIONS; a new form fails here until it has its row. Django's admin is
    the technical administrator's, behind the same gate, and not part of
    the portal's forms."""
    readers = {name for name, view in _callbacks() if not name.startswith("admin:") and reads_post(view)}
    listed = set(ROWS_BY_NAME) | set(ACTIONS)
    assert readers - listed == set(), f"add rows to FORMS (or ACTIONS) for: {sorted(readers - listed)}"
    assert listed - readers == set(), f"these rows read no POST data: {sorted(listed - readers)}"
    assert not set(ROWS_BY_NAME) & set(ACTIONS)
    assert {name for name, _path in URLS if name} >= listed


# --- the imports ----------------------------------------------------------------------------

# Cells each column refuses, whatever the rest of the row says.
_bad_date = st.sampled_from([*NOT_A_DATE, "01-02-2015", "2015/02/01", "1899-12-31", "١٢٣٤-٠١-٠١", ""])
_control = st.text(max_size=6).map(lambda t: f"{t}\x07{t}")
_bad_bsn = st.sampled_from(["123456789", "²" * 9, "١١١٢٢٢٣٣٣", "11122233３", "9" * 400, "12345678x", "0" * 9])
PUPIL_BAD_CELLS = {
    "pupil_ref": st.one_of(st.just(""), st.just("r" * 41), _control),
    "first_name": st.one_of(st.just(""), st.just("f" * 101), _control),
    "last_name": st.one_of(st.just(""), st.just("l" * 101), _control),
    "birth_date": st.one_of(_bad_date, st.just((TODAY + datetime.timedelta(days=3)).isoformat())),
    "sex": st.sampled_from(["", "Q", "²", "man", "MV"]),
    "bsn": _bad_bsn,
    "group": st.one_of(st.sampled_from(["Groep 9", "g" * 41]), _control),
    "enrolled_on": _bad_date,
    "left_on": st.sampled_from(NOT_A_DATE[:-1]),
    "destination": st.sampled_from(["special", "other", "²"]),
    "street": st.one_of(st.just("s" * 151), _control),
    "house_number": st.just("1" * 13),
    "postcode": st.sampled_from(["12345", "²²²² AB", "1234", "ABCD 12", "0123 AB"]),
    "city": st.one_of(st.just("c" * 101), _control),
    "guardian1_name": st.one_of(st.just(""), st.just("n" * 251), _control),
    "guardian1_email": st.sampled_from(["not-an-email", "a@", "e" * 250 + "@example.org"]),
    "guardian1_phone": st.sampled_from(["abc", "²" * 10, "123", "+" + "9" * 30]),
    "guardian1_authority": st.sampled_from(["", "maybe", "²", "ja"]),
}
BRP_BAD_CELLS = {
    "bsn": st.one_of(_bad_bsn, st.just("")),
    "first_name": st.one_of(st.just("f" * 201), _control),
    "last_name": st.one_of(st.just("l" * 201), _control),
    "street": st.one_of(st.just(""), st.just("s" * 151), _control),
    "house_number": st.sampled_from(["", "1" * 13]),
    "postcode": PUPIL_BAD_CELLS["postcode"],
    "city": st.one_of(st.just(""), _control),
    "date_of_change": st.one_of(_bad_date, st.just((TODAY + datetime.timedelta(days=2)).isoformat())),
}


def _import_refused(tmp_path, command, content, bad_line):
    """The command refuses the whole file, says which line, and writes nothing."""
    path = tmp_path / f"{command}.csv"
    path.write_bytes(content)
    before = _counts()
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(command, str(path), "--school", "11AA", "--commit", stdout=io.StringIO(), stderr=err)
    assert "nothing was written" in str(refused.value)
    assert re.search(rf"^line {bad_line}: \S", err.getvalue(), re.M), err.getvalue()
    assert _counts() == before


@pytest.mark.parametrize("command", ["import_pupils", "import_brp"])
def test_generated_bad_cell_refuses_the_whole_import(command, tmp_path, imported):  # noqa: F811
    """S-16, R-DOS-1, R-DOS-6: a well-formed file with one bad cell (unicode
    digits, control characters, too long, not a date or BSN, missing) on
    any line: the command refuses the whole file with the line number, and
    nothing is written, good lines included."""
    if command == "import_pupils":
        good_rows = [pupil_row(pupil_ref="L101", bsn="999990019"), second_pupil(pupil_ref="L102", bsn="999991929")]
        cells, columns = PUPIL_BAD_CELLS, imports.PUPIL_COLUMNS
    else:
        good_rows = [brp_row(BSN_1), brp_row(BSN_2, street="Oudegracht")]
        cells, columns = BRP_BAD_CELLS, imports.BRP_COLUMNS

    @GENERATED
    @given(position=st.integers(0, len(good_rows)), column=st.sampled_from(sorted(cells)), data=st.data())
    def import_bad_cell(position, column, data):
        value = data.draw(cells[column])
        rows = [dict(row) for row in good_rows]
        bad = dict(good_rows[0])
        bad[column] = value
        if command == "import_pupils":
            bad.update(pupil_ref="L199" if column != "pupil_ref" else value, bsn=bad["bsn"] if column == "bsn" else "")
        rows.insert(position, bad)
        _import_refused(tmp_path, command, make_csv(rows, columns=columns), bad_line=position + 2)

    import_bad_cell()
