"""Leavers with a row in every record type, each text carrying a sentinel
that names its category, so a scan can tell what a purge left behind."""

import datetime

import pytest
from django.utils import timezone

from consent.models import ConsentAnswer, ConsentCategory, Publication, PublicationPupil, QuestionVersion
from privacy_admin.roles import SchoolRole
from students.models import (
    Address,
    Agreement,
    Assignment,
    AttendanceRecord,
    ConversationReport,
    Document,
    EnrolmentEvent,
    FundingRecord,
    Guardian,
    GuardianLink,
    HealthNote,
    Involvement,
    PaperDossier,
    ProgressResult,
    SupportNeed,
)
from tests.conftest import make_staff
from tests.students.conftest import make_pupil

LEFT = datetime.date(2023, 7, 31)


def sentinel(category, pupil):
    return f"SENTINEL-{category}-{pupil.pk}-q9z"


def _consent_question(school):
    category, _ = ConsentCategory.objects.get_or_create(
        school=school, key="website", defaults={"label_nl": "Website", "label_en": "Website"}
    )
    version, _ = QuestionVersion.objects.get_or_create(
        category=category, number=1, defaults={"text_nl": "Mag het?", "text_en": "May we?"}
    )
    return category, version


def make_leaver(school, *, left_on=LEFT, destination="regular", user=None, full=True):
    """A pupil who left on `left_on` with data in every category."""
    pupil = make_pupil(school, first="Lea", last=f"Leaver{timezone.now().timestamp()}")
    pupil.enrolment.left_on = left_on
    pupil.enrolment.destination = destination
    pupil.enrolment.destination_school = sentinel("enrolment", pupil)
    pupil.enrolment.save(update_fields=["left_on", "destination", "destination_school"])
    Address.objects.create(
        pupil=pupil,
        street=sentinel("contact", pupil),
        house_number="1",
        postcode="3111AA",
        city="Schiedam",
        valid_from=datetime.date(2021, 8, 1),
    )
    guardian = Guardian.objects.create(last_name=sentinel("contact", pupil) + "-guardian")
    GuardianLink.objects.create(pupil=pupil, guardian=guardian)
    EnrolmentEvent.objects.create(pupil=pupil, date=left_on, kind="unenrolment", note=sentinel("enrolment", pupil))
    AttendanceRecord.objects.create(pupil=pupil, date=left_on, hours=2, reason=sentinel("attendance", pupil))
    FundingRecord.objects.create(pupil=pupil, reference_date=left_on, indicator="x", value=sentinel("funding", pupil))
    SupportNeed.objects.create(pupil=pupil, since=left_on, description=sentinel("substantive", pupil))
    if not full:
        return pupil
    PaperDossier.objects.create(pupil=pupil, location=sentinel("enrolment", pupil))
    HealthNote.objects.create(pupil=pupil, date=left_on, note=sentinel("substantive", pupil), needed_for="x")
    ProgressResult.objects.create(
        pupil=pupil, date=left_on, test=sentinel("substantive", pupil), subject="r", score="1"
    )
    report = ConversationReport.objects.create(
        pupil=pupil, date=left_on, participants="x", report=sentinel("substantive", pupil)
    )
    doc = Document.objects.create(
        pupil=pupil,
        conversation=report,
        filename=sentinel("substantive", pupil),
        content_type="application/pdf",
        size=4,
        content=sentinel("substantive", pupil),
    )
    Agreement.objects.create(pupil=pupil, date=left_on, text=sentinel("substantive", pupil))
    user = user or make_staff(f"support_{pupil.pk}", school=school, role=SchoolRole.SUPPORT)
    Involvement.objects.create(
        user=user, pupil=pupil, reason=sentinel("substantive", pupil), valid_from=left_on, valid_until=left_on
    )
    assignment = Assignment.objects.create(user=user, school=school, valid_from=left_on, valid_until=left_on)
    assignment.pupils.add(pupil)
    category, version = _consent_question(school)
    ConsentAnswer.objects.create(
        pupil=pupil,
        category=category,
        guardian=guardian,
        value="given",
        version=version,
        channel="paper",
        scan=doc,
        at=timezone.now(),
    )
    publication = Publication.objects.create(school=school, channel=category, date=left_on, description="trip")
    PublicationPupil.objects.create(publication=publication, pupil=pupil, one_off_scan=doc)
    return pupil


@pytest.fixture
def staff_user(school_a):
    return make_staff("retention_staff", school=school_a, role=SchoolRole.SUPPORT)


def reseed_rules():
    """The seeded terms come from data migrations; a transactional test (the
    browser tests' live server) flushes them for the tests after it in the
    same process. Put them back as the migrations wrote them."""
    import importlib

    from django.apps import apps as django_apps

    for name in ("0002_seed_rules", "0004_seed_disclosure_and_request_rules"):
        importlib.import_module(f"retention.migrations.{name}").seed(django_apps, None)
