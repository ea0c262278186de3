"""The disclosure log: on the pupil's Verstrekkingen tab, in the parents'
portal and in the school's log (R-DIS-7, S-11, S-12)."""

import pytest
from django.urls import reverse

from disclosures import actions
from disclosures.models import Disclosure
from tests.disclosures.conftest import add_parent
from tests.students.conftest import make_pupil


@pytest.fixture
def history(director_a, ib_a, register, school_a, pupil_a5, pupil_a6):
    """A disclosed export, a pending and a refused Inspectie request about pupil_a5."""
    disclosed, _plan = actions.disclosure_export_make(
        school=school_a,
        recipient=register["bibliotheek"],
        kind="standing",
        pupils=[pupil_a5],
        method="csv",
        acting_user=director_a,
    )
    pending = actions.disclosure_request_make(
        school=school_a,
        pupils=[pupil_a5],
        fields=["full_name"],
        purpose="Themaonderzoek",
        recipient_detail="Insp A",
        method="inspection",
        acting_user=ib_a,
    )
    refused = actions.disclosure_request_make(
        school=school_a,
        pupils=[pupil_a5],
        fields=["full_name"],
        purpose="Geweigerd onderzoek",
        recipient_detail="Insp B",
        method="inspection",
        acting_user=ib_a,
    )
    actions.disclosure_refuse(disclosure=refused, reason="geen grond", acting_user=director_a)
    other, _plan = actions.disclosure_export_make(
        school=school_a,
        recipient=register["cjg"],
        kind="standing",
        pupils=[pupil_a6],
        method="csv",
        acting_user=director_a,
    )
    return {"disclosed": disclosed, "pending": pending, "refused": refused, "other": other}


def test_pupil_tab_lists_each_disclosure(history, verified_client, teacher_a, pupil_a5):
    """R-DIS-7: the tab shows recipient, basis, purpose, fields, when, by whom
    and the status, for this pupil only."""
    page = verified_client(teacher_a).get(reverse("dossier_disclosures", args=[pupil_a5.pk])).content.decode()
    table = page.split('id="pupil-disclosures"')[1].split("</table>")[0]
    row = table.split(f'id="disclosure-{history["disclosed"].pk}"')[1].split("</tr>")[0]
    for text in ("Bibliotheek op school", "Public task", "Uitleenadministratie", "Full name, Group", "Director_A"):
        assert text in row, text
    assert f'id="disclosure-{history["pending"].pk}"' in table and "Waiting for the director" in table
    assert f'id="disclosure-{history["other"].pk}"' not in table
    assert 'href="/verstrekkingen/' not in table  # a teacher reads the record, not the disclosure itself


def test_tab_is_registered_and_guarded(verified_client, teacher_a, teacher_b, pupil_a5):
    """S-11: the tab is in the dossier's navigation; another school's teacher gets a 404."""
    page = verified_client(teacher_a).get(reverse("dossier", args=[pupil_a5.pk])).content.decode()
    assert reverse("dossier_disclosures", args=[pupil_a5.pk]) in page
    assert verified_client(teacher_b).get(reverse("dossier_disclosures", args=[pupil_a5.pk])).status_code == 404


def test_parents_see_what_was_disclosed_about_their_child(history, parent_client, mother_a5, pupil_a5):
    """R-DIS-7: parents see the disclosed records of their child (recipient,
    basis, purpose, fields, when, by whom), not requests that were never
    disclosed, and nothing of another child."""
    page = parent_client(mother_a5.email).get(reverse("parent_disclosures", args=[pupil_a5.pk])).content.decode()
    table = page.split('id="parent-disclosures"')[1].split("</table>")[0]
    assert f'id="disclosure-{history["disclosed"].pk}"' in table
    for text in ("Bibliotheek op school", "Public task", "Uitleenadministratie", "Full name, Group"):
        assert text in table, text
    assert "Themaonderzoek" not in table and "Geweigerd onderzoek" not in table
    assert f'id="disclosure-{history["other"].pk}"' not in table


def test_parents_reach_only_their_own_children(history, parent_client, mother_a5, pupil_a6):
    """R-DIS-7, S-11: another child is a 404 in the parents' portal."""
    client = parent_client(mother_a5.email)
    assert client.get(reverse("parent_disclosures", args=[pupil_a6.pk])).status_code == 404
    report = reverse("parent_disclosure_report", args=[pupil_a6.pk, history["other"].pk])
    assert client.get(report).status_code == 404


def test_parents_home_links_to_the_disclosures(parent_client, mother_a5, pupil_a5):
    """R-DIS-7: the parents' page of the child links to its disclosure records."""
    page = parent_client(mother_a5.email).get(reverse("parent_home")).content.decode()
    assert reverse("parent_disclosures", args=[pupil_a5.pk]) in page


def test_school_log_is_filtered_per_school(
    history, verified_client, director_a, app_admin_a, fg, director_b, register, school_b, group5_b
):
    """S-12: the log shows the school's disclosures to those who keep it; a
    director of another school sees only their own; the FG all of the foundation."""
    pupil_b = make_pupil(school_b, group5_b, first="Bo", last="Elders")
    add_parent(pupil_b, "X", "x@example.org")
    theirs, _plan = actions.disclosure_export_make(
        school=school_b,
        recipient=register["cjg"],
        kind="standing",
        pupils=[pupil_b],
        method="csv",
        acting_user=director_b,
    )
    url = reverse("disclosure_list")

    def numbers(user):
        page = verified_client(user).get(url).content.decode()
        return {d.pk for d in Disclosure.objects.all() if f'href="/verstrekkingen/{d.pk}/"' in page}

    ours = {d.pk for d in history.values()}
    assert numbers(director_a) == ours
    assert numbers(app_admin_a) == ours
    assert numbers(director_b) == {theirs.pk}
    assert numbers(fg) == ours | {theirs.pk}
    assert (
        verified_client(director_b).get(reverse("disclosure_detail", args=[history["disclosed"].pk])).status_code == 404
    )


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_inbox_and_tab_queries_do_not_grow(verified_client, director_a, ib_a, register, school_a, pupil_a5, pupil_a6):
    """The inbox and the pupil's tab cost the same number of queries for one
    request as for three (no N+1)."""
    client = verified_client(director_a)

    def request():
        return actions.disclosure_request_make(
            school=school_a,
            pupils=[pupil_a5, pupil_a6],
            fields=["full_name"],
            purpose="x",
            recipient_detail="y",
            method="inspection",
            acting_user=ib_a,
        )

    request()
    inbox, tab = reverse("disclosure_inbox"), reverse("dossier_disclosures", args=[pupil_a5.pk])
    one = (_queries(client, inbox), _queries(client, tab))
    request()
    request()
    assert (_queries(client, inbox), _queries(client, tab)) == one
