"""Defects found in review of the purge, fixed (R-RET-5, R-RET-6, S-26, S-27)."""

import datetime as dt

import pytest
from django.utils import timezone

from consent.models import ConsentAnswer, PublicationPupil
from retention import engine
from retention.models import LegalHold, PurgeRecord
from students.models import ConversationReport, Document, Enrolment, SupportNeed
from tests.retention.conftest import make_leaver
from tests.students.conftest import make_pupil

D = dt.date


def test_consent_scan_survives_substantive_purge(school_a, staff_user):
    """S-26, R-CON-7: a scan a consent answer keeps as evidence stays until consent is due."""
    p = make_leaver(school_a, user=staff_user)
    assert ConsentAnswer.objects.get(pupil=p).scan_id
    engine.purge(D(2025, 8, 1))
    # consent is not due until 2028, but its evidence is gone
    assert ConsentAnswer.objects.get(pupil=p).scan_id is not None, "ConsentAnswer.scan nulled"
    assert PublicationPupil.objects.get(pupil=p).one_off_scan_id is not None, "one_off_scan nulled"


def test_other_pupils_document_via_conversation(school_a, staff_user):
    """S-26: purging one pupil never cascades into another pupil's records."""
    leaver = make_leaver(school_a, user=staff_user)
    stays = make_pupil(school_a, first="Still", last="Enrolled")
    conv = ConversationReport.objects.get(pupil=leaver)
    doc = Document.objects.create(
        pupil=stays, conversation=conv, filename="x", content_type="application/pdf", size=1, content="x"
    )
    engine.purge(D(2025, 8, 1))
    assert Document.objects.filter(pk=doc.pk).exists(), "enrolled pupil's Document cascaded away"


def test_held_pupils_document_via_conversation(school_a, staff_user, director_a):
    """R-RET-6: a held pupil's record survives a cascade from another pupil's purge."""
    leaver = make_leaver(school_a, user=staff_user)
    held = make_leaver(school_a, user=staff_user)
    LegalHold.objects.create(pupil=held, reason="x", set_at=timezone.now())
    doc = Document.objects.create(
        pupil=held,
        conversation=ConversationReport.objects.get(pupil=leaver),
        filename="x",
        content_type="application/pdf",
        size=1,
        content="x",
    )
    engine.purge(D(2025, 8, 1))
    assert Document.objects.filter(pk=doc.pk).exists(), "held pupil's Document cascaded away"


def test_reenrolled_between_report_and_batch(school_a, staff_user, monkeypatch):
    """R-RET-5, S-27: what is due is decided under the lock, so a pupil who re-enrolled is kept."""
    p = make_leaver(school_a, user=staff_user)
    real = engine.take_lock

    def take():
        Enrolment.objects.filter(pupil=p).update(left_on=None, destination="")  # re-enrolled meanwhile
        return real()

    monkeypatch.setattr(engine, "take_lock", take)
    engine.purge(D(2028, 8, 1))
    assert SupportNeed.objects.filter(pupil=p).exists(), "re-enrolled pupil purged from stale report"


def test_concurrent_runs_double_records(school_a, staff_user, monkeypatch):
    """S-27, S-28: a run that starts after another finished purges and records nothing twice."""
    make_leaver(school_a, user=staff_user)
    real = engine.take_lock
    state = {"inner": False}

    def take():
        if not state["inner"]:
            state["inner"] = True
            engine.purge(D(2025, 8, 1))  # a run that finished between our due() and our lock
        return real()

    monkeypatch.setattr(engine, "take_lock", take)
    res = engine.purge(D(2025, 8, 1))
    assert res.purged["substantive"] == 0, res.purged
    assert PurgeRecord.objects.filter(category="substantive").count() == 1


@pytest.mark.parametrize(
    "dest,cat,day,n",
    [
        ("regular", "substantive", D(2025, 7, 31), 0),
        ("regular", "substantive", D(2025, 8, 1), 1),
        ("special", "substantive", D(2026, 7, 31), 0),
        ("special", "substantive", D(2026, 8, 1), 1),
        ("regular", "attendance", D(2028, 7, 31), 0),
        ("regular", "attendance", D(2028, 8, 1), 1),
        ("special", "funding", D(2028, 7, 31), 0),
        ("special", "enrolment", D(2028, 8, 1), 1),
    ],
)
def test_edges(school_a, staff_user, dest, cat, day, n):
    """R-RET-5: the day before and the day of each due date."""
    make_leaver(school_a, destination=dest, user=staff_user)
    assert engine.due(day).counts()[cat] == n
