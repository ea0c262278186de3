"""Disclosure fixtures: the IB and the administrative staff member of school
A, the seeded register, pupils with parents, and helpers for the parents'
portal and for making disclosures through HTTP."""

import time

import pytest
from django.test import Client

from consent import parents
from disclosures.models import Recipient
from disclosures.seed import recipients_seed
from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.roles import SchoolRole
from students.models import Guardian, GuardianLink
from tests.conftest import make_staff
from tests.students.conftest import group5_b, group6_a, make_pupil, pupil_a5, pupil_a6, pupil_b  # noqa: F401


@pytest.fixture
def ib_a(school_a):
    return make_staff("ib_a", school=school_a, role=SchoolRole.IB)


@pytest.fixture
def admin_staff_a(school_a):
    return make_staff("admin_staff_a", school=school_a, role=SchoolRole.ADMINISTRATION)


@pytest.fixture
def director_b(school_b):
    return make_staff("director_b", school=school_b, role=SchoolRole.DIRECTOR)


@pytest.fixture
def register(foundation):
    """The seeded register of the foundation, by key."""
    recipients_seed(foundation)
    return {r.key: r for r in Recipient.objects.filter(foundation=foundation)}


def add_parent(pupil, first, email, authority=True):
    guardian = Guardian.objects.create(first_name=first, last_name=pupil.last_name, email=email, phone="0600000001")
    GuardianLink.objects.create(pupil=pupil, guardian=guardian, has_authority=authority)
    return guardian


@pytest.fixture
def mother_a5(pupil_a5):  # noqa: F811 - the fixture imported above
    return add_parent(pupil_a5, "Marieke", "marieke.vijfje@example.org")


@pytest.fixture
def stepfather_a5(pupil_a5):  # noqa: F811 - the fixture imported above
    """A parent without parental authority."""
    return add_parent(pupil_a5, "Stef", "stef.vijfje@example.org", authority=False)


@pytest.fixture
def parent_client():
    """A client signed in to the parents' portal with this address."""

    def make(email):
        client = Client()
        session = client.session
        now = time.time()
        session[parents.EMAIL_KEY] = email
        session[parents.AUTH_AT_KEY] = now
        session[parents.LAST_SEEN_KEY] = now
        session.save()
        return client

    return make


def age_second_factor(client, seconds=3600):
    """Make the session's last code check old, so a step-up is due (S-8)."""
    session = client.session
    session[OTP_AT_KEY] = session[OTP_AT_KEY] - seconds
    session.save()
    return client
