"""The dossier's tab list shows a tab exactly when its page opens (R-ACC-1..3,
S-11): a tab that answers 404 when clicked is a dead end, and tells a role of
a page it may not see. The substitute and the support member hold grants in
force here (an assignment to the pupil's group, an involvement with the
pupil), so they open the dossier itself; the access table
(test_access_table.py) covers them without a grant."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from students.models import Assignment, Involvement
from students.policy import INVOLVED_PERMISSION
from students.tabs import tabs
from tests.students.access_roles import ROLES

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def granted(school_a, group5_a, pupil_a5, substitute_a, support_a):
    """The substitute assigned to group 5 until Friday (R-ACC-2), the support
    member involved with the pupil (R-ACC-3)."""
    Assignment.objects.create(
        user=substitute_a, school=school_a, group=group5_a, record_types=["attendance", "progress"],
        valid_from=TODAY - DAY, valid_until=TODAY + 7 * DAY,
    )  # fmt: skip
    Involvement.objects.create(
        user=support_a, pupil=pupil_a5, reason="leesbegeleiding", valid_from=TODAY - DAY, valid_until=TODAY + 30 * DAY
    )
    assign_perm(INVOLVED_PERMISSION, support_a, pupil_a5)
    return pupil_a5


@pytest.mark.parametrize("role", ROLES)
def test_parents_requests_tab_shown_exactly_when_it_opens(role, request, granted, verified_client):
    """R-RGT-2, R-ACC-2, R-ACC-3: "Parents' requests" is in the tab list of
    every dossier page the role opens if and only if the tab's own page opens
    for the role; likewise every other tab the apps register."""
    client = verified_client(request.getfixturevalue(role))
    pages = [reverse(name, args=[granted.pk]) for name in ("dossier", "dossier_substantive")]
    opened = [client.get(url) for url in pages]
    opened = [response for response in opened if response.status_code == 200]
    if role in ("substitute_a", "support_a", "director_a", "teacher_a", "app_admin_a"):
        assert opened, f"{role} should open the dossier"
    for tab in tabs():
        url = reverse(tab.url_name, args=[granted.pk])
        opens = client.get(url).status_code == 200
        for response in opened:
            shown = f'href="{url}"' in response.content.decode()
            assert shown == opens, (role, tab.key, shown, opens)


def test_parents_requests_tab_for_full_access_only(granted, verified_client, substitute_a, support_a, teacher_a):
    """R-RGT-2, R-ACC-1..3: the demo's finding: the substitute (invaller) and
    the support member (ondersteuning) see no "Parents' requests" tab and get
    the 404 they got before; the teacher sees it and opens it."""
    url = reverse("dossier_requests", args=[granted.pk])
    dossier = reverse("dossier", args=[granted.pk])
    for user in (substitute_a, support_a):
        client = verified_client(user)
        page = client.get(dossier)
        assert page.status_code == 200 and f'href="{url}"' not in page.content.decode()
        assert "Parents&#x27; requests" not in page.content.decode()
        assert client.get(url).status_code == 404
    client = verified_client(teacher_a)
    assert f'href="{url}"' in client.get(dossier).content.decode()
    assert client.get(url).status_code == 200
