"""Consent fixtures: school A's categories, a pupil in group 5 with two
parents with parental authority and one without."""

import pytest

from consent.models import ConsentCategory
from consent.services import categories_seed
from students.models import Guardian, GuardianLink
from tests.students.conftest import make_pupil


@pytest.fixture
def categories_a(school_a):
    categories_seed(school_a)
    return {c.key: c for c in ConsentCategory.objects.filter(school=school_a)}


@pytest.fixture
def child(school_a, group5_a):
    return make_pupil(school_a, group5_a, first="Sanne", last="Kwast")


def _guardian(child, first, email, authority):
    guardian = Guardian.objects.create(first_name=first, last_name="Kwast", email=email)
    GuardianLink.objects.create(pupil=child, guardian=guardian, has_authority=authority)
    return guardian


@pytest.fixture
def mother(child):
    return _guardian(child, "Marieke", "marieke.kwast@example.org", True)


@pytest.fixture
def father(child):
    return _guardian(child, "Frank", "frank.kwast@example.org", True)


@pytest.fixture
def stepparent(child):
    """A parent without parental authority (R-CON-6, R-RGT-4)."""
    return _guardian(child, "Stef", "stef@example.org", False)
