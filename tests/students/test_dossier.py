"""The pupil dossier through HTTP: creation, both parts, validation, read
logging, uploads and encryption at rest."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from privacy_admin.models import AuditEvent
from privacy_admin.records import RetentionCategory, pupil_linked_models, retention_category_of
from students.models import (
    Address,
    ConversationReport,
    Document,
    Enrolment,
    EnrolmentEvent,
    HealthNote,
    PaperDossier,
    Pupil,
    SupportNeed,
)
from tests.students.conftest import make_bsn, make_pupil

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


# --- R-DOS-1, R-DOS-2 --------------------------------------------------------


def test_application_with_placement_guarantee_creates_dossier(verified_client, director_a, school_a):
    """R-DOS-1: registering an application with a placement guarantee makes the
    digital dossier, with its enrolment, application event and paper register."""
    bsn = make_bsn()
    response = verified_client(director_a).post(
        "/leerlingen/aanmelden/",
        {
            "school": school_a.pk,
            "first_name": "Noor",
            "last_name": "Nieuw",
            "birth_date": "2021-05-01",
            "sex": "V",
            "bsn": bsn,
            "application_date": "2025-10-01",
            "placement_guarantee": "on",
        },
    )
    assert response.status_code == 302
    pupil = Pupil.objects.with_bsn(bsn).get()
    assert response["Location"] == f"/leerlingen/{pupil.pk}/"
    assert Enrolment.objects.get(pupil=pupil).placement_guarantee
    assert EnrolmentEvent.objects.filter(pupil=pupil, kind="application").exists()
    assert PaperDossier.objects.filter(pupil=pupil).exists()
    assert AuditEvent.objects.filter(action="dossier.created", pupil_id=pupil.pk).exists()


def test_application_without_guarantee_makes_no_dossier(verified_client, director_a, school_a):
    """R-DOS-1: no placement guarantee, no dossier; the form says why."""
    response = verified_client(director_a).post(
        "/leerlingen/aanmelden/",
        {
            "school": school_a.pk,
            "first_name": "Noor",
            "last_name": "Nieuw",
            "birth_date": "2021-05-01",
            "sex": "V",
            "application_date": "2025-10-01",
        },
    )
    assert response.status_code == 200
    assert "placement_guarantee" in response.context["form"].errors
    assert not Pupil.objects.exists()


def test_paper_dossier_register(verified_client, app_admin_a, pupil_a5):
    """R-DOS-2: which of the two paper documents exist and where it is kept."""
    client = verified_client(app_admin_a)
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/papieren-dossier/",
        {"has_application_form": "on", "has_pupil_card": "on", "location": "Archiefkast directiekamer"},
    )
    assert response.status_code == 302
    paper = PaperDossier.objects.get(pupil=pupil_a5)
    assert paper.has_application_form and paper.has_pupil_card
    assert "Archiefkast" in client.get(f"/leerlingen/{pupil_a5.pk}/").content.decode()


# --- R-DOS-3..5: the two parts -----------------------------------------------


def test_dossier_has_administrative_and_substantive_parts(verified_client, teacher_a, pupil_a5):
    """R-DOS-3, R-DOS-4, R-DOS-5: the administrative tab shows enrolment,
    contact and attendance; the substantive tab support, progress, reports."""
    Address.objects.create(
        pupil=pupil_a5, street="Schoolstraat", house_number="1", postcode="3111 AA", city="Schiedam",
        valid_from=datetime.date(2021, 8, 1),
    )  # fmt: skip
    SupportNeed.objects.create(pupil=pupil_a5, since=datetime.date(2024, 1, 8), description="Extra instructie rekenen")
    client = verified_client(teacher_a)
    admin = client.get(f"/leerlingen/{pupil_a5.pk}/").content.decode()
    assert "Schoolstraat" in admin and "30-08-2021" in admin
    assert "Extra instructie" not in admin
    substantive = client.get(f"/leerlingen/{pupil_a5.pk}/inhoudelijk/").content.decode()
    assert "Extra instructie rekenen" in substantive


def test_parent_without_an_address_shows_a_dash(verified_client, teacher_a, pupil_a5):
    """R-DOS-3: a parent whose address is not known shows "-", not a stray comma."""
    from students.models import Guardian, GuardianLink

    guardian = Guardian.objects.create(first_name="Ouder", last_name="Zonder")
    GuardianLink.objects.create(pupil=pupil_a5, guardian=guardian, has_authority=True, relation="moeder")
    page = verified_client(teacher_a).get(f"/leerlingen/{pupil_a5.pk}/").content.decode()
    row = page[page.find("Zonder") : page.find("</tr>", page.find("Zonder"))]
    assert "<td>-</td>" in row and "<td> , </td>" not in row and ", </td>" not in row


def test_teacher_adds_conversation_report_with_attachment(verified_client, teacher_a, pupil_a5):
    """R-DOS-5, S-20: a conversation report with a PDF attachment; the
    attachment is served only through the access check."""
    client = verified_client(teacher_a)
    upload = io.BytesIO(PDF)
    upload.name = "verslag.pdf"
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/conversation/nieuw/",
        {
            "date": "2025-11-03",
            "participants": "Moeder, leerkracht",
            "report": "Goed gesprek over lezen.",
            "file": upload,
        },
    )
    assert response.status_code == 302
    report = ConversationReport.objects.get(pupil=pupil_a5)
    assert report.author == teacher_a
    document = Document.objects.get(conversation=report)
    download = client.get(f"/leerlingen/{pupil_a5.pk}/documenten/{document.pk}/")
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert "verslag" not in download["Content-Disposition"]


def test_upload_type_checked_by_content_and_size(verified_client, teacher_a, pupil_a5, settings):
    """S-20: a file is allowed by its content, not its name; too large is refused."""
    client = verified_client(teacher_a)
    fake = io.BytesIO(b"MZ\x90\x00 this is an executable")
    fake.name = "brief.pdf"
    response = client.post(f"/leerlingen/{pupil_a5.pk}/documenten/nieuw/", {"file": fake})
    assert response.status_code == 200 and "file" in response.context["form"].errors
    big = io.BytesIO(PDF + b"0" * (5 * 1024 * 1024))
    big.name = "groot.pdf"
    response = client.post(f"/leerlingen/{pupil_a5.pk}/documenten/nieuw/", {"file": big})
    assert response.status_code == 200 and "file" in response.context["form"].errors
    assert not Document.objects.exists()


def test_document_of_other_school_is_404(verified_client, teacher_b, pupil_a5, teacher_a):
    """S-20, S-11: a document is reachable only through its pupil's access check."""
    upload = io.BytesIO(PDF)
    upload.name = "a.pdf"
    verified_client(teacher_a).post(f"/leerlingen/{pupil_a5.pk}/documenten/nieuw/", {"file": upload})
    document = Document.objects.get()
    assert verified_client(teacher_b).get(f"/leerlingen/{pupil_a5.pk}/documenten/{document.pk}/").status_code == 404


# --- Validation (R-DOS-6, S-16) ----------------------------------------------


def test_bad_bsn_and_postcode_are_refused(verified_client, app_admin_a, pupil_a5):
    """R-DOS-6: a BSN must pass the eleven test; a postcode looks like 1234 AB.
    The form re-renders with the errors and stores nothing."""
    client = verified_client(app_admin_a)
    old_hash = pupil_a5.bsn_hash
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/gegevens/",
        {"first_name": "Anna", "last_name": "Vijfje", "birth_date": "2017-03-14", "sex": "V", "bsn": "123456789"},
    )
    assert response.status_code == 200 and "bsn" in response.context["form"].errors
    pupil_a5.refresh_from_db()
    assert pupil_a5.bsn_hash == old_hash and pupil_a5.sex == "M"
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/contact/nieuw/",
        {"street": "Laan", "house_number": "2", "postcode": "123 AB", "city": "Schiedam", "valid_from": "2025-01-01"},
    )
    assert response.status_code == 200 and "postcode" in response.context["form"].errors
    assert not Address.objects.exists()


def test_unenrolment_before_enrolment_is_refused(verified_client, app_admin_a, pupil_a5):
    """R-DOS-4: the unenrolment lies after the enrolment and names a destination."""
    client = verified_client(app_admin_a)
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/inschrijving/",
        {"application_date": "2020-09-01", "enrolled_on": "2021-08-30", "left_on": "2021-01-01"},
    )
    assert response.status_code == 200
    assert {"left_on", "destination"} <= set(response.context["form"].errors)
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/inschrijving/",
        {
            "application_date": "2020-09-01",
            "enrolled_on": "2021-08-30",
            "left_on": "2025-07-31",
            "destination": "special",
        },
    )
    assert response.status_code == 302
    enrolment = Enrolment.objects.get(pupil=pupil_a5)
    assert enrolment.left_on == datetime.date(2025, 7, 31) and enrolment.destination == "special"
    assert EnrolmentEvent.objects.filter(pupil=pupil_a5, kind="unenrolment").exists()


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.text(max_size=120),
    birth=st.text(max_size=12),
    bsn=st.text(alphabet="0123456789 .x", max_size=12),
    guarantee=st.sampled_from(["", "on", "x"]),
)
def test_application_form_under_generated_input(verified_client, director_a, school_a, first, birth, bsn, guarantee):
    """S-16: generated input never causes a 500; a rejected form stores nothing."""
    before = Pupil.objects.count()
    response = verified_client(director_a).post(
        "/leerlingen/aanmelden/",
        {
            "school": school_a.pk,
            "first_name": first,
            "last_name": "Test",
            "birth_date": birth,
            "sex": "M",
            "bsn": bsn,
            "application_date": "2025-10-01",
            "placement_guarantee": guarantee,
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Pupil.objects.count() == before


# --- Read logging (R-ACC-7, S-21) --------------------------------------------


def test_reading_substantive_part_is_audited_with_ground(verified_client, teacher_a, pupil_a5):
    """R-ACC-7, S-21: opening the substantive part writes one audit row with who,
    which pupil, which part and the ground."""
    verified_client(teacher_a).get(f"/leerlingen/{pupil_a5.pk}/inhoudelijk/")
    event = AuditEvent.objects.get(action="dossier.read_substantive")
    assert event.actor_id == teacher_a.pk and event.pupil_id == pupil_a5.pk
    assert event.school_id == pupil_a5.school_id
    assert "Leerkracht" in event.ground or "Teacher" in event.ground


def test_health_and_bsn_reads_are_audited(verified_client, director_a, pupil_a5):
    """S-21, R-ACC-7: reading health data and a BSN each write an audit row."""
    HealthNote.objects.create(pupil=pupil_a5, date=datetime.date(2025, 1, 1), note="Epilepsie", needed_for="Noodplan")
    client = verified_client(director_a)
    assert "Epilepsie" in client.get(f"/leerlingen/{pupil_a5.pk}/inhoudelijk/").content.decode()
    assert pupil_a5.bsn in client.get(f"/leerlingen/{pupil_a5.pk}/bsn/").content.decode()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"dossier.read_substantive", "dossier.read_health", "dossier.read_bsn"} <= actions


def test_nothing_shown_when_audit_fails(verified_client, teacher_a, pupil_a5, monkeypatch):
    """S-21: if the audit row cannot be written, the substantive part is not shown."""
    SupportNeed.objects.create(pupil=pupil_a5, since=datetime.date(2024, 1, 8), description="GEHEIM-SENTINEL")
    from students import actions

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(actions, "audit_record", broken)
    client = verified_client(teacher_a)
    client.raise_request_exception = False
    response = client.get(f"/leerlingen/{pupil_a5.pk}/inhoudelijk/")
    assert response.status_code == 500
    assert "GEHEIM-SENTINEL" not in response.content.decode()


def test_changes_are_audited_without_content(verified_client, teacher_a, pupil_a5):
    """R-ACC-7: every change is recorded: who, what (field names), never the content."""
    client = verified_client(teacher_a)
    client.post(
        f"/leerlingen/{pupil_a5.pk}/support/nieuw/", {"since": "2025-02-03", "description": "Dyslexie-SENTINEL"}
    )
    event = AuditEvent.objects.get(action="dossier.record_created")
    assert event.pupil_id == pupil_a5.pk and event.details["record_type"] == "support"
    assert "description" in event.details["fields"]
    assert "SENTINEL" not in str(list(AuditEvent.objects.values()))


def test_who_viewed_list_for_director_not_teacher(verified_client, director_a, teacher_a, pupil_a5):
    """R-ACC-7: the dossier's log ("who viewed") for the director, not for a teacher."""
    verified_client(teacher_a).get(f"/leerlingen/{pupil_a5.pk}/inhoudelijk/")
    page = verified_client(director_a).get(f"/leerlingen/{pupil_a5.pk}/logboek/")
    assert page.status_code == 200 and "teacher_a" in page.content.decode()
    assert verified_client(teacher_a).get(f"/leerlingen/{pupil_a5.pk}/logboek/").status_code == 404


# --- S-13: BSN and health only for roles that need them ----------------------


def test_bsn_and_health_only_for_roles_that_need_them(verified_client, teacher_a, app_admin_a, pupil_a5):
    """S-13: a teacher sees no BSN; the application admin sees no health data;
    the BSN never appears in a URL or page title."""
    HealthNote.objects.create(
        pupil=pupil_a5, date=datetime.date(2025, 1, 1), note="Allergie-X", needed_for="Traktaties"
    )
    teacher = verified_client(teacher_a)
    page = teacher.get(f"/leerlingen/{pupil_a5.pk}/").content.decode()
    assert pupil_a5.bsn not in page and "/bsn/" not in page
    assert teacher.get(f"/leerlingen/{pupil_a5.pk}/bsn/").status_code == 404
    admin = verified_client(app_admin_a)
    assert "Allergie-X" not in admin.get(f"/leerlingen/{pupil_a5.pk}/inhoudelijk/").content.decode()
    bsn_page = admin.get(f"/leerlingen/{pupil_a5.pk}/bsn/").content.decode()
    title = bsn_page.split("<title>")[1].split("</title>")[0]
    assert pupil_a5.bsn not in title


def test_find_by_bsn_is_posted_and_scoped(verified_client, app_admin_a, teacher_a, pupil_a5, pupil_b):
    """S-13, S-12: BSN search is a POST (never in a URL), finds only visible pupils."""
    admin = verified_client(app_admin_a)
    assert admin.post("/leerlingen/bsn-zoeken/", {"bsn": pupil_a5.bsn})["Location"] == f"/leerlingen/{pupil_a5.pk}/"
    assert admin.post("/leerlingen/bsn-zoeken/", {"bsn": pupil_b.bsn})["Location"] == "/leerlingen/"
    assert verified_client(teacher_a).post("/leerlingen/bsn-zoeken/", {"bsn": pupil_a5.bsn}).status_code == 403


def test_dossier_pages_not_cached(verified_client, teacher_a, pupil_a5):
    """S-19, issue 3: Cache-Control: no-store on every dossier page."""
    client = verified_client(teacher_a)
    for suffix in ("", "inhoudelijk/"):
        assert client.get(f"/leerlingen/{pupil_a5.pk}/{suffix}")["Cache-Control"] == "no-store"


# --- S-25: encryption at rest ------------------------------------------------


def test_sensitive_values_encrypted_at_rest(db, school_a, settings):
    """S-25: BSN, health notes, substantive texts and documents are stored
    encrypted with their key id; the raw database holds no plaintext. A BSN is
    found through the keyed hash."""
    pupil = make_pupil(school_a, bsn="111222333")
    note = HealthNote.objects.create(pupil=pupil, date=datetime.date(2025, 1, 1), note="Diabetes-PLAIN", needed_for="X")
    report = ConversationReport.objects.create(
        pupil=pupil, date=datetime.date(2025, 1, 1), participants="Vader", report="Verslag-PLAIN"
    )
    raw_bsn = _raw("students_pupil", "bsn", pupil.pk)
    assert raw_bsn.startswith("enc1:") and "111222333" not in raw_bsn
    assert "Diabetes" not in _raw("students_healthnote", "note", note.pk)
    assert "Verslag" not in _raw("students_conversationreport", "report", report.pk)
    assert _raw("students_pupil", "bsn_hash", pupil.pk) != "111222333"
    assert Pupil.objects.with_bsn("111 222 333").get() == pupil
    key_id = next(iter(settings.FIELD_ENCRYPTION_KEYS))
    assert raw_bsn.split(":")[1] == key_id


def test_rotation_reencrypts_dossier_fields(db, school_a, settings):
    """S-25: rotate_encryption_keys re-seals dossier values under the new key."""
    from privacy_admin.env import new_field_key_item, parse_field_keys

    pupil = make_pupil(school_a, bsn="123456782")
    old = dict(settings.FIELD_ENCRYPTION_KEYS)
    new = parse_field_keys([new_field_key_item("rot2")])
    settings.FIELD_ENCRYPTION_KEYS = {**new, **old}
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = new
    assert _raw("students_pupil", "bsn", pupil.pk).split(":")[1] == "rot2"
    assert Pupil.objects.get(pk=pupil.pk).bsn == "123456782"


# --- S-26 --------------------------------------------------------------------


def test_every_pupil_linked_model_declares_retention_category():
    """S-26: a model with a link to a pupil without a retention category fails."""
    models = pupil_linked_models()
    assert Pupil in models and SupportNeed in models
    missing = [m._meta.label for m in models if retention_category_of(m) not in RetentionCategory.values]
    assert missing == []


# --- Speed: constant queries (issue 3, item 9) -------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["group", "dossier", "substantive", "search"])
def test_query_count_does_not_grow(verified_client, teacher_a, group5_a, school_a, page):
    """Item 9: the group overview, search and both dossier tabs use the same
    number of queries at 5 and at 50 pupils and records."""
    client = verified_client(teacher_a)
    counts = []
    for n in (5, 50):
        pupils = [make_pupil(school_a, group5_a, first=f"P{i}") for i in range(n - len(counts) * 5)]
        target = pupils[0]
        for i in range(n):
            SupportNeed.objects.create(pupil=target, since=datetime.date(2024, 1, 1), description=f"n{i}")
            Address.objects.create(
                pupil=target, street="S", house_number=str(i), postcode="3111 AA", city="C",
                valid_from=datetime.date(2020, 1, 1),
            )  # fmt: skip
        url = {
            "group": f"/groepen/{group5_a.pk}/",
            "dossier": f"/leerlingen/{target.pk}/",
            "substantive": f"/leerlingen/{target.pk}/inhoudelijk/",
            "search": "/leerlingen/?q=P",
        }[page]
        _queries(client, url)  # warm the session write
        counts.append(_queries(client, url))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20


def test_rehash_after_lookup_key_change(db, school_a, settings):
    """S-25: after LOOKUP_HASH_KEY changes, --rehash makes BSN look-up work again."""
    pupil = make_pupil(school_a, bsn="111222333")
    settings.LOOKUP_HASH_KEY = "another-lookup-key-of-at-least-32-characters"
    assert not Pupil.objects.with_bsn("111222333").exists()
    call_command("rotate_encryption_keys", "--rehash", stdout=io.StringIO())
    assert Pupil.objects.with_bsn("111222333").get() == pupil


def test_parents_linked_with_and_without_authority(verified_client, app_admin_a, pupil_a5):
    """R-ORG-3: parents/guardians are linked to a pupil, each link marked with or
    without parental authority; the dossier shows which."""
    from students.models import GuardianLink

    client = verified_client(app_admin_a)
    for first, authority in (("Moeder", "on"), ("Stiefvader", "")):
        data = {"first_name": first, "last_name": "Vijfje", "email": f"{first.lower()}@example.org"}
        if authority:
            data["has_authority"] = authority
        assert client.post(f"/leerlingen/{pupil_a5.pk}/ouders/nieuw/", data).status_code == 302
    links = {link.guardian.first_name: link.has_authority for link in GuardianLink.objects.filter(pupil=pupil_a5)}
    assert links == {"Moeder": True, "Stiefvader": False}
    page = client.get(f"/leerlingen/{pupil_a5.pk}/").content.decode()
    assert "Moeder" in page and "Stiefvader" in page
