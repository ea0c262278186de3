"""Pupils for the dossier tests: two in school A (groups 5 and 6), one in
school B. BSNs are synthetic and pass the eleven test."""

import datetime
import itertools

import pytest

from privacy_admin.models import Group
from privacy_admin.models.org import current_school_year
from students.models import Enrolment, Pupil
from students.validators import bsn_passes_elfproef

_counter = itertools.count(10000000)


def make_bsn():
    """The next synthetic BSN that passes the eleven test."""
    while True:
        candidate = f"{next(_counter):08d}"
        for last in range(10):
            bsn = f"1{candidate[1:]}{last}"
            if bsn_passes_elfproef(bsn):
                return bsn


def make_pupil(school, group=None, *, first="Pim", last="Jansen", bsn=None, **fields):
    pupil = Pupil(
        school=school,
        group=group,
        first_name=first,
        last_name=last,
        birth_date=datetime.date(2017, 3, 14),
        sex="M",
        **fields,
    )
    pupil.set_bsn(bsn or make_bsn())
    pupil.save()
    Enrolment.objects.create(
        pupil=pupil, application_date=datetime.date(2020, 9, 1), enrolled_on=datetime.date(2021, 8, 30)
    )
    return pupil


@pytest.fixture
def group6_a(school_a):
    return Group.objects.create(school=school_a, school_year=current_school_year(), grade=6, name="Groep 6")


@pytest.fixture
def group5_b(school_b):
    return Group.objects.create(school=school_b, school_year=current_school_year(), grade=5, name="Groep 5")


@pytest.fixture
def pupil_a5(school_a, group5_a):
    return make_pupil(school_a, group5_a, first="Anna", last="Vijfje")


@pytest.fixture
def pupil_a6(school_a, group6_a):
    return make_pupil(school_a, group6_a, first="Bram", last="Zesje")


@pytest.fixture
def pupil_b(school_b, group5_b):
    return make_pupil(school_b, group5_b, first="Cas", last="Anders")
