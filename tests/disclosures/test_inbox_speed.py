"""The director's inbox (U-2) reads only what it shows: the same number of
queries however many requests, emergencies, decisions and reviews it lists
(a column it shows but did not read would cost a query per row), and no
pupil's BSN decrypted for a list of names (docs/operations.md, issue 10)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disclosures import actions
from privacy_admin import crypto


def _request(school, pupils, ib):
    return actions.disclosure_request_make(
        school=school,
        pupils=pupils,
        fields=["full_name", "group"],
        purpose="Controle verzuim",
        recipient_detail="Inspecteur J. de Vries",
        method="inspection",
        acting_user=ib,
    )


def _emergency(pupil, teacher):
    return actions.disclosure_emergency_make(
        pupil=pupil,
        fields=["full_name", "guardian_phones"],
        purpose="Gevallen van het klimrek",
        recipient_detail="Ambulance 112",
        method="phone",
        acting_user=teacher,
    )


def _one_of_each(school, pupils, ib, teacher, director):
    """A pending request, an emergency to review, an approval, a refusal and
    a review: every list of the inbox gets a row."""
    pending = _request(school, pupils, ib)
    waiting = _emergency(pupils[0], teacher)
    actions.disclosure_approve(disclosure=_request(school, pupils, ib), reason="Wettelijke taak", acting_user=director)
    actions.disclosure_refuse(disclosure=_request(school, pupils, ib), reason="Geen grondslag", acting_user=director)
    actions.disclosure_review(disclosure=_emergency(pupils[1], teacher), note="Terecht gegeven", acting_user=director)
    return pending, waiting


def _get(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("disclosure_inbox"))
    assert response.status_code == 200
    return response.content.decode(), len(captured)


def test_inbox_queries_do_not_grow_with_any_list(
    verified_client, director_a, ib_a, teacher_a, register, school_a, pupil_a5, pupil_a6
):
    """One row in every list costs as many queries as three, and each row
    still shows what it did: pupils with their group, who decided or
    reviewed and why."""
    client = verified_client(director_a)
    pupils = [pupil_a5, pupil_a6]
    pending, waiting = _one_of_each(school_a, pupils, ib_a, teacher_a, director_a)
    _page, one = _get(client)
    _one_of_each(school_a, pupils, ib_a, teacher_a, director_a)
    _one_of_each(school_a, pupils, ib_a, teacher_a, director_a)
    page, three = _get(client)
    assert three == one
    request = page.split(f'id="request-{pending.pk}"')[1].split("</article>")[0]
    for text in (
        "Inspecteur J. de Vries",
        "Legal obligation",
        "Inspected at school",
        f"{pupil_a5.full_name} ({pupil_a5.group.name})",
        f"{pupil_a6.full_name} ({pupil_a6.group.name})",
        "School A",
        ib_a.get_full_name() or ib_a.username,
    ):
        assert text in request, text
    review = page.split(f'id="review-{waiting.pk}"')[1].split("</article>")[0]
    assert "Ambulance 112" in review and pupil_a5.full_name in review and pupil_a6.full_name not in review
    decided = page.split('id="decided"')[1]
    assert decided.count("Wettelijke taak") == 3 and decided.count("Geen grondslag") == 3
    assert decided.count(director_a.get_full_name() or director_a.username) >= 6
    assert page.count("Terecht gegeven") == 3


def test_inbox_decrypts_no_bsn(
    monkeypatch, verified_client, director_a, ib_a, teacher_a, register, school_a, pupil_a5, pupil_a6
):
    """The inbox names the pupils; it does not read, let alone decrypt, their
    BSN (the pupils have one: make_pupil gives it)."""
    assert pupil_a5.bsn
    _one_of_each(school_a, [pupil_a5, pupil_a6], ib_a, teacher_a, director_a)
    contexts = []
    decrypt = crypto.decrypt

    def recording(value, context):
        contexts.append(context)
        return decrypt(value, context)

    monkeypatch.setattr(crypto, "decrypt", recording)
    page, _queries = _get(verified_client(director_a))
    assert pupil_a5.full_name in page
    assert "students.pupil.bsn" not in contexts
