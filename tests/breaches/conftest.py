"""Breach fixtures: the FG's deputy, the bestuurder, and an incident factory."""

import pytest

from breaches.models import Breach
from privacy_admin.roles import FoundationRole
from tests.conftest import make_staff


@pytest.fixture
def deputy(foundation):
    return make_staff("fg_deputy", foundation=foundation, foundation_role=FoundationRole.FG_DEPUTY)


@pytest.fixture
def board(foundation):
    return make_staff("board", foundation=foundation, foundation_role=FoundationRole.BOARD)


@pytest.fixture
def make_breach(foundation):
    def make(*, reporter, school=None, aware_at, **fields):
        return Breach.objects.create(
            foundation=foundation,
            school=school,
            reporter=reporter,
            aware_at=aware_at,
            what_happened=fields.pop("what_happened", "Lijst verstuurd naar verkeerde ouder"),
            data_concerned=fields.pop("data_concerned", "Groepslijst"),
            **fields,
        )

    return make
