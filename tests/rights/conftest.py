"""Parents' requests fixtures: a child of school A in group 5 with a mother
with parental authority and a stepfather without (R-RGT-4), a family of
another child, and a client signed in to the parents' portal."""

import time

import pytest
from django.test import Client

from consent import parents
from consent.parents import ParentAccess
from disclosures.rights import services
from disclosures.rights.models import ParentRequest
from students.models import Guardian, GuardianLink
from tests.students.conftest import make_pupil


def _guardian(child, first, email, authority):
    guardian = Guardian.objects.create(first_name=first, last_name="Kwast", email=email)
    link = GuardianLink.objects.create(pupil=child, guardian=guardian, has_authority=authority)
    return link


@pytest.fixture
def child(school_a, group5_a):
    return make_pupil(school_a, group5_a, first="Sanne", last="Kwast")


@pytest.fixture
def mother(child):
    return _guardian(child, "Marieke", "marieke.kwast@example.org", True)


@pytest.fixture
def stepfather(child):
    """Without parental authority (R-RGT-4)."""
    return _guardian(child, "Stef", "stef.kwast@example.org", False)


@pytest.fixture
def other_family(school_a, group5_a):
    pupil = make_pupil(school_a, group5_a, first="Otto", last="Anders")
    guardian = Guardian.objects.create(first_name="Olga", last_name="Anders", email="olga.anders@example.org")
    return GuardianLink.objects.create(pupil=pupil, guardian=guardian, has_authority=True)


def parent_client(email):
    """A client signed in to the parents' portal, as consent.parents leaves
    the session after the code step."""
    client = Client()
    session = client.session
    now = time.time()
    session[parents.EMAIL_KEY] = email
    session[parents.AUTH_AT_KEY] = now
    session[parents.LAST_SEEN_KEY] = now
    session.save()
    return client


def access_of(link):
    return ParentAccess(link.pupil, link.guardian, link.has_authority)


def file_request(link, kind=ParentRequest.Kind.VIEW, **fields):
    if kind != ParentRequest.Kind.VIEW:
        fields = {"part": "support", "what": "De zin over lezen klopt niet.", "reason": "Zij leest goed."} | fields
    return services.request_file(access=access_of(link), kind=kind, **fields)
