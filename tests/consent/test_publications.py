"""The publication check through HTTP (R-CON-4, R-CON-5, R-CON-6, S-11,
S-12, S-16): who may appear, the one-off written consent, names in the
caption, publishing, the takedown list, and the way in for each role."""

import datetime
import io
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consent import services
from consent.models import ConsentCategory, Publication, PublicationPupil
from privacy_admin.models import AuditEvent, Group
from privacy_admin.models.org import current_school_year
from students.models import Document, Guardian, GuardianLink
from tests.students.conftest import make_pupil

PDF = b"%PDF-1.4\n% scan of the signed form\n"
ROLES = ("director_a", "app_admin_a", "teacher_a", "substitute_a", "support_a", "teacher_b", "fg")
FULL_A = {"director_a", "app_admin_a", "teacher_a"}


@pytest.fixture
def staff(verified_client):
    """A verified client that asks for English, so the assertions read the
    English texts whatever the Dutch catalogue holds."""

    def make(user):
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def answer(pupil, category, guardian, value, *, by=None):
    return services.answer_record(
        pupil=pupil,
        category=category,
        guardian=guardian,
        value=value,
        channel="paper" if by else "portal",
        acting_user=by,
    )


def make_publication(school, channel, user, *, caption="", pupils=(), status=Publication.Status.DRAFT):
    publication = Publication.objects.create(
        school=school,
        channel=channel,
        date=timezone.localdate(),
        description="Sportdag",
        caption=caption,
        created_by=user,
        status=status,
        published_at=timezone.now() if status == Publication.Status.PUBLISHED else None,
    )
    for pupil in pupils:
        PublicationPupil.objects.create(publication=publication, pupil=pupil)
    return publication


def detail_url(publication):
    return reverse("publication_detail", kwargs={"publication_id": publication.pk})


def publish(client, publication):
    return client.post(reverse("publication_publish", kwargs={"publication_id": publication.pk}), follow=True)


def one_off_url(publication, appearance):
    return reverse("publication_one_off", kwargs={"publication_id": publication.pk, "appearance_id": appearance.pk})


def one_off_data(appearance, guardian, **extra):
    prefix = f"oneoff-{appearance.pk}"
    data = {f"{prefix}-guardian": guardian.pk if guardian else "", f"{prefix}-confirmed": "on"}
    data.update({f"{prefix}-{k}": v for k, v in extra.items()})
    return data


def actions():
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


# --- R-CON-4: the parent app and the general consent ---------------------------------


def test_parent_app_publication_with_consenting_pupil_publishes(
    staff, director_a, categories_a, child, mother, school_a
):
    """R-CON-4: on the parent app the parents' general consent counts: a
    pupil whose parent with authority gave it is cleared, and the
    publication is registered, ticked and published through the screens,
    each step audited."""
    answer(child, categories_a["parro"], mother, "given", by=director_a)
    client = staff(director_a)
    response = client.post(
        reverse("publication_new"),
        {
            "school": school_a.pk,
            "channel": categories_a["parro"].pk,
            "date": timezone.localdate().isoformat(),
            "description": "Sportdag groep 5",
            "caption": "Sportdag op het grote veld",
        },
    )
    publication = Publication.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(publication)
    assert publication.created_by == director_a and publication.status == Publication.Status.DRAFT

    response = client.post(detail_url(publication), {"pupils": [child.pk]})
    assert response.status_code == 302
    assert list(publication.appearances.values_list("pupil_id", flat=True)) == [child.pk]

    page = client.get(detail_url(publication)).content.decode()
    assert "Cleared" in page and "consent for the parent app" in page
    assert "May not appear" not in page

    response = publish(client, publication)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.PUBLISHED and publication.published_at is not None
    assert "marked as published" in response.content.decode()
    assert actions()[-3:] == [
        "consent.publication_created",
        "consent.publication_pupils_changed",
        "consent.publication_published",
    ]
    created = AuditEvent.objects.get(action="consent.publication_created")
    assert created.actor_id == director_a.pk and created.school_id == school_a.pk
    assert created.object_id == str(publication.pk)


@pytest.mark.parametrize("given_by_mother,refused_by_father", [(False, True), (False, False), (True, True)])
def test_parent_app_publication_with_refusing_or_unanswered_pupil_cannot_publish(
    given_by_mother, refused_by_father, staff, director_a, categories_a, child, mother, father, school_a
):
    """R-CON-4, R-CON-6: a refusal, no answer at all, or two parents who
    disagree (the stricter holds) leave the pupil uncleared: the check says
    so and publishing is refused with the reason, the publication stays a
    draft."""
    if given_by_mother:
        answer(child, categories_a["parro"], mother, "given", by=director_a)
    if refused_by_father:
        answer(child, categories_a["parro"], father, "refused", by=director_a)
    publication = make_publication(school_a, categories_a["parro"], director_a, pupils=[child])
    client = staff(director_a)
    page = client.get(detail_url(publication)).content.decode()
    assert "May not appear" in page and "no consent for the parent app" in page
    assert "1 pupil may not appear in this publication." in page
    # The parent app needs no one-off form: the general consent decides.
    assert "Record written consent" not in page

    body = publish(client, publication).content.decode()
    assert "may not appear in this publication." in body
    assert "The publication was not published." in body
    publication.refresh_from_db()
    assert publication.status == Publication.Status.DRAFT and publication.published_at is None
    assert "consent.publication_published" not in actions()


def test_website_publication_needs_a_one_off_written_consent_per_pupil(
    staff, director_a, categories_a, child, mother, school_a, group5_a
):
    """R-CON-4: the general website preference is not enough; every pupil
    needs a written consent for this publication, recorded with the parent
    with authority who gave it and, optionally, the scan (kept in the
    pupil's dossier). Only then can it be published."""
    other = make_pupil(school_a, group5_a, first="Joris", last="Berg")
    answer(child, categories_a["website"], mother, "given", by=director_a)
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    client = staff(director_a)

    page = client.get(detail_url(publication)).content.decode()
    assert "May not appear" in page and "needs a written consent for this publication" in page
    # The check's table links to the pupil's form, which opens on its own (one at a time).
    assert f"?oneoff={appearance.pk}#oneoff-{appearance.pk}" in page and "Record written consent" not in page
    page = client.get(f"{detail_url(publication)}?oneoff={appearance.pk}").content.decode()
    assert "Record written consent" in page and f'id="oneoff-{appearance.pk}"' in page
    assert publish(client, publication).status_code == 200
    publication.refresh_from_db()
    assert publication.status == Publication.Status.DRAFT

    data = one_off_data(appearance, mother, file=SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"))
    response = client.post(one_off_url(publication, appearance), data)
    assert response.status_code == 302
    appearance.refresh_from_db()
    assert appearance.one_off_consent_by == mother and appearance.one_off_recorded_by == director_a
    assert appearance.one_off_scan.pupil == child and appearance.one_off_scan.content_type == "application/pdf"
    assert {"dossier.document_added", "consent.one_off_recorded"} <= set(actions())

    page = client.get(detail_url(publication)).content.decode()
    assert "written consent for this publication" in page and "May not appear" not in page
    # The recorded consent is evidence: a second post does not overwrite it.
    client.post(one_off_url(publication, appearance), one_off_data(appearance, mother))
    appearance.refresh_from_db()
    assert appearance.one_off_scan is not None
    assert AuditEvent.objects.filter(action="consent.one_off_recorded").count() == 1

    # A second pupil without a one-off consent blocks again.
    client.post(detail_url(publication), {"pupils": [child.pk, other.pk]})
    publish(client, publication)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.DRAFT

    client.post(detail_url(publication), {"pupils": [child.pk]})
    publish(client, publication)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.PUBLISHED


def test_one_off_consent_offers_only_parents_with_authority(
    staff, director_a, categories_a, child, mother, stepparent, school_a
):
    """R-CON-6: the form offers the parents with parental authority only."""
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    page = staff(director_a).get(f"{detail_url(publication)}?oneoff={appearance.pk}").content.decode()
    assert f'value="{mother.pk}"' in page
    assert f'value="{stepparent.pk}"' not in page


def test_one_off_consent_by_parent_without_authority_is_refused(
    staff, director_a, categories_a, child, mother, stepparent, school_a
):
    """R-CON-6: a forged post naming the parent without authority is refused
    by the service with a 403; no consent and no scan are stored."""
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    before = actions()
    data = one_off_data(
        appearance, stepparent, file=SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    )
    response = staff(director_a).post(one_off_url(publication, appearance), data)
    assert response.status_code == 403
    appearance.refresh_from_db()
    assert appearance.one_off_consent_at is None and appearance.one_off_consent_by is None
    assert not Document.objects.exists()
    assert actions() == before


# --- R-CON-5: no names in the caption ------------------------------------------------


@pytest.mark.parametrize("caption", ["Sanne wint de zaklopen", "Familie Kwast op de sportdag"])
def test_caption_with_a_pupils_name_is_flagged_and_blocks_publishing(
    caption, staff, director_a, categories_a, child, mother, school_a
):
    """R-CON-5: a first or last name of a pupil of the school in the caption
    is flagged on the check page and publishing is refused, even when every
    pupil is cleared."""
    answer(child, categories_a["parro"], mother, "given", by=director_a)
    publication = make_publication(school_a, categories_a["parro"], director_a, caption=caption, pupils=[child])
    client = staff(director_a)
    page = client.get(detail_url(publication)).content.decode()
    name = "Sanne" if "Sanne" in caption else "Kwast"
    assert 'class="msg error" role="alert"' in page
    assert f"The caption contains the name of a pupil of the school ({name})" in page

    body = publish(client, publication).content.decode()
    assert "photos and videos never carry children" in body
    assert "The publication was not published." in body
    publication.refresh_from_db()
    assert publication.status == Publication.Status.DRAFT


def test_caption_without_names_passes(staff, director_a, categories_a, child, mother, school_a):
    """R-CON-5: a caption that names no pupil is not flagged and publishes."""
    answer(child, categories_a["parro"], mother, "given", by=director_a)
    publication = make_publication(
        school_a, categories_a["parro"], director_a, caption="Zaklopen op de sportdag", pupils=[child]
    )
    client = staff(director_a)
    assert "The caption contains the name" not in client.get(detail_url(publication)).content.decode()
    publish(client, publication)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.PUBLISHED


def test_caption_words_that_are_surname_prefixes_name_nobody(staff, director_a, categories_a, child, school_a):
    """R-CON-5: "de", "van", "den" of last names written "de Wit" or "van den
    Berg" do not flag an ordinary Dutch caption; the name itself still does."""
    make_pupil(school_a, first="Noor", last="de Wit")
    make_pupil(school_a, first="Daan", last="van den Berg")
    caption = "Groep 5 van de Vlinder op de sportdag, ten slotte in het bos"
    publication = make_publication(school_a, categories_a["parro"], director_a, caption=caption, pupils=[child])
    assert services.caption_names(publication) == []
    publication.caption = "Wit en Berg winnen de estafette"
    assert services.caption_names(publication) == ["Berg", "Wit"]
    make_pupil(school_a, first="Anne-Sophie", last="Jansen-de Vries")
    publication.caption = "Sophie en Vries op de sportdag"
    assert services.caption_names(publication) == ["Sophie", "Vries"]


def test_caption_can_be_changed_while_draft(staff, director_a, categories_a, child, mother, school_a):
    """R-CON-5: a flagged caption is corrected on the change form (audited),
    after which the publication can be published; a published one can no
    longer be changed."""
    answer(child, categories_a["parro"], mother, "given", by=director_a)
    publication = make_publication(school_a, categories_a["parro"], director_a, caption="Sanne wint", pupils=[child])
    client = staff(director_a)
    edit = reverse("publication_edit", kwargs={"publication_id": publication.pk})
    data = {"date": publication.date.isoformat(), "description": "Sportdag", "caption": "De winnaar"}
    assert client.post(edit, data).status_code == 302
    assert AuditEvent.objects.filter(action="consent.publication_changed").get().details == {"fields": ["caption"]}
    publish(client, publication)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.PUBLISHED

    response = client.post(edit, {**data, "caption": "Sanne"}, follow=True)
    assert "Only a draft publication can be changed." in response.content.decode()
    publication.refresh_from_db()
    assert publication.caption == "De winnaar"


# --- Withdrawal and the takedown list (R-CON-4, R-CON-6) ------------------------------


def test_withdrawn_consent_puts_live_publication_on_the_takedown_list(
    staff, director_a, teacher_a, categories_a, child, mother, school_a
):
    """R-CON-4, R-CON-6: after a parent withdraws through the portal, the live
    publication shows on the takedown list of the staff member who published
    it, with the pupil; marking it taken down is audited and empties the list."""
    answer(child, categories_a["parro"], mother, "given", by=director_a)
    publication = make_publication(school_a, categories_a["parro"], director_a, pupils=[child])
    client = staff(director_a)
    publish(client, publication)
    list_url = reverse("publication_list")
    assert "None of your live publications shows a pupil" in client.get(list_url).content.decode()

    answer(child, categories_a["parro"], mother, "refused")  # the parent withdraws in the portal

    page = client.get(list_url).content.decode()
    assert "To take down" in page and "Sanne Kwast" in page
    assert reverse("publication_take_down", kwargs={"publication_id": publication.pk}) in page
    # Another staff member of the school did not publish it: not on their list.
    other = staff(teacher_a).get(list_url).content.decode()
    assert "None of your live publications shows a pupil" in other

    response = client.post(
        reverse("publication_take_down", kwargs={"publication_id": publication.pk}), {"back": "list"}
    )
    assert response.status_code == 302 and response["Location"] == list_url
    publication.refresh_from_db()
    assert publication.status == Publication.Status.TAKEN_DOWN and publication.taken_down_at is not None
    event = AuditEvent.objects.get(action="consent.publication_taken_down")
    assert event.actor_id == director_a.pk and event.object_id == str(publication.pk)
    assert "None of your live publications shows a pupil" in client.get(list_url).content.decode()

    # A second click records nothing more.
    client.post(reverse("publication_take_down", kwargs={"publication_id": publication.pk}))
    assert AuditEvent.objects.filter(action="consent.publication_taken_down").count() == 1


def test_pupils_cannot_be_changed_once_published(staff, director_a, categories_a, child, mother, school_a, group5_a):
    """R-CON-4: what was checked is what was published; the pupils are fixed
    after publishing, and a forged post changes nothing."""
    other = make_pupil(school_a, group5_a, first="Joris", last="Berg")
    answer(child, categories_a["parro"], mother, "given", by=director_a)
    publication = make_publication(school_a, categories_a["parro"], director_a, pupils=[child])
    client = staff(director_a)
    publish(client, publication)
    response = client.post(detail_url(publication), {"pupils": [other.pk]}, follow=True)
    assert "only be changed while it is a draft" in response.content.decode()
    assert list(publication.appearances.values_list("pupil_id", flat=True)) == [child.pk]
    assert 'name="pupils"' not in client.get(detail_url(publication)).content.decode()


# --- S-11, S-12: one way in -----------------------------------------------------------


def test_other_schools_publication_is_a_404(staff, director_a, teacher_b, categories_a, child, mother, school_a):
    """S-11: teacher_b gets the same 404 for school A's publication as for one
    that does not exist, on every URL and method; nothing changes."""
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    client = staff(teacher_b)
    kwargs = {"publication_id": publication.pk}
    assert client.get(detail_url(publication)).status_code == 404
    assert client.get(reverse("publication_detail", kwargs={"publication_id": 999999})).status_code == 404
    assert client.get(reverse("publication_edit", kwargs=kwargs)).status_code == 404
    assert client.post(detail_url(publication), {"pupils": []}).status_code == 404
    assert client.post(reverse("publication_publish", kwargs=kwargs)).status_code == 404
    assert client.post(reverse("publication_take_down", kwargs=kwargs)).status_code == 404
    assert client.post(one_off_url(publication, appearance), one_off_data(appearance, mother)).status_code == 404
    publication.refresh_from_db()
    appearance.refresh_from_db()
    assert publication.status == Publication.Status.DRAFT and appearance.one_off_consent_at is None
    assert publication.appearances.count() == 1


def test_pupils_who_left_are_not_offered_for_a_new_publication(staff, director_a, categories_a, child, school_a):
    """R-CON-4, S-12: the tick list offers the school's pupils who had not
    left by the publication's date; one who left years ago is not offered
    and cannot be posted."""
    gone = make_pupil(school_a, first="Lang", last="Vertrokken")
    gone.enrolment.left_on = timezone.localdate() - datetime.timedelta(days=3 * 365)
    gone.enrolment.save()
    leaving = make_pupil(school_a, first="Bijna", last="Weg")
    leaving.enrolment.left_on = timezone.localdate() + datetime.timedelta(days=30)
    leaving.enrolment.save()
    publication = make_publication(school_a, categories_a["parro"], director_a)
    client = staff(director_a)
    page = client.get(detail_url(publication)).content.decode()
    assert "Vertrokken" not in page and "Weg" in page and "Kwast" in page
    response = client.post(detail_url(publication), {"pupils": [gone.pk]})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not PublicationPupil.objects.filter(pupil=gone).exists()


def test_school_a_pupils_cannot_be_ticked_from_school_b(staff, teacher_b, school_b, child, categories_a):
    """S-12: the pupils offered are those the user may see; a forged post
    with a pupil of school A in teacher_b's own publication is a form error
    and stores nothing. School A's channels cannot be chosen either."""
    services.categories_seed(school_b)
    channel_b = ConsentCategory.objects.get(school=school_b, key="parro")
    publication = make_publication(school_b, channel_b, teacher_b)
    client = staff(teacher_b)
    page = client.get(detail_url(publication)).content.decode()
    assert "Kwast" not in page
    response = client.post(detail_url(publication), {"pupils": [child.pk]})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PublicationPupil.objects.exists()

    new = reverse("publication_new")
    offered = client.get(new).context["form"].fields["channel"].queryset
    assert {c.school_id for c in offered} == {school_b.pk}
    data = {
        "school": school_b.pk,
        "channel": categories_a["parro"].pk,
        "date": timezone.localdate().isoformat(),
        "description": "x",
    }
    assert client.post(new, data).status_code == 200
    assert Publication.objects.count() == 1


def test_group_filter_narrows_the_pupils_and_keeps_the_others(
    staff, director_a, categories_a, child, school_a, group5_a
):
    """S-12: ticking within one group leaves the pupils of other groups as
    they were."""
    group6 = Group.objects.create(school=school_a, school_year=current_school_year(), grade=6, name="Groep 6")
    pupil6 = make_pupil(school_a, group6, first="Bram", last="Zesje")
    publication = make_publication(school_a, categories_a["parro"], director_a, pupils=[pupil6])
    client = staff(director_a)
    page = client.get(detail_url(publication), {"group": group5_a.pk}).content.decode()
    assert "Kwast, Sanne" in page and "Zesje, Bram" not in page.split('id="pupils-title"')[1]
    response = client.post(f"{detail_url(publication)}?group={group5_a.pk}", {"pupils": [child.pk]})
    assert response.status_code == 302 and response["Location"].endswith(f"?group={group5_a.pk}")
    assert set(publication.appearances.values_list("pupil_id", flat=True)) == {child.pk, pupil6.pk}


# --- S-16: bad input re-renders with a message and stores nothing ---------------------


@pytest.mark.parametrize(
    "change,field",
    [
        ({"description": ""}, "description"),
        ({"date": "31-02-2025"}, "date"),
        ({"date": "2001-01-01"}, "date"),
        ({"channel": "nco"}, "channel"),
        ({"channel": "999999"}, "channel"),
        ({"school": "999999"}, "school"),
        ({"caption": "x" * 501}, "caption"),
    ],
)
def test_new_publication_bad_input(change, field, staff, director_a, categories_a, school_a):
    """S-16: every field of the new-publication form is checked; the form
    comes back with the message at the field and nothing is stored."""
    data = {
        "school": school_a.pk,
        "channel": categories_a["parro"].pk,
        "date": timezone.localdate().isoformat(),
        "description": "Sportdag",
        "caption": "",
        **change,
    }
    if data["channel"] == "nco":  # a research objection is no publication channel
        data["channel"] = categories_a["onderzoek-nco"].pk
    before = actions()
    response = staff(director_a).post(reverse("publication_new"), data)
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Publication.objects.exists()
    assert actions() == before


def test_change_publication_bad_input(staff, director_a, categories_a, school_a):
    """S-16: the change form refuses an empty description and a far date."""
    publication = make_publication(school_a, categories_a["parro"], director_a)
    edit = reverse("publication_edit", kwargs={"publication_id": publication.pk})
    far = (timezone.localdate() + datetime.timedelta(days=800)).isoformat()
    response = staff(director_a).post(edit, {"date": far, "description": "", "caption": "y"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="id_date_error"' in body and 'id="id_description_error"' in body
    publication.refresh_from_db()
    assert publication.description == "Sportdag" and publication.caption == ""
    assert not AuditEvent.objects.filter(action="consent.publication_changed").exists()


@pytest.mark.parametrize("pupils", [["abc"], ["999999"]])
def test_tick_pupils_bad_input(pupils, staff, director_a, categories_a, child, school_a):
    """S-16: an unknown pupil id is a form error; nothing is stored."""
    publication = make_publication(school_a, categories_a["parro"], director_a)
    response = staff(director_a).post(detail_url(publication), {"pupils": [*pupils, child.pk]})
    assert response.status_code == 200 and 'class="errors" role="alert"' in response.content.decode()
    assert not PublicationPupil.objects.exists()


@pytest.mark.parametrize(
    "kind",
    ["no_parent", "not_confirmed", "other_pupils_parent", "wrong_file_type"],
)
def test_one_off_consent_bad_input(kind, staff, director_a, categories_a, child, mother, school_a, group5_a):
    """S-16, R-CON-4: the one-off form needs a parent of this pupil, the
    confirmation that the consent is written and for this publication, and a
    scan (if any) that is a PDF, PNG or JPEG; otherwise it comes back with
    the message and nothing is stored."""
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    prefix = f"oneoff-{appearance.pk}"
    data = one_off_data(appearance, mother)
    if kind == "no_parent":
        data[f"{prefix}-guardian"] = ""
    elif kind == "not_confirmed":
        del data[f"{prefix}-confirmed"]
    elif kind == "other_pupils_parent":
        stranger = Guardian.objects.create(first_name="Ada", last_name="Berg")
        GuardianLink.objects.create(
            pupil=make_pupil(school_a, group5_a, first="Joris", last="Berg"), guardian=stranger, has_authority=True
        )
        data[f"{prefix}-guardian"] = stranger.pk
    else:
        data[f"{prefix}-file"] = SimpleUploadedFile("scan.pdf", b"MZ not a pdf", content_type="application/pdf")
    before = actions()
    response = staff(director_a).post(one_off_url(publication, appearance), data)
    assert response.status_code == 200
    assert f'id="id_{prefix}-' in response.content.decode() and 'role="alert"' in response.content.decode()
    appearance.refresh_from_db()
    assert appearance.one_off_consent_at is None
    assert not Document.objects.exists()
    assert actions() == before


def test_one_off_is_not_offered_on_the_parent_app(staff, director_a, categories_a, child, school_a):
    """R-CON-4: on the parent app the general consent decides; there is no
    one-off form to post to."""
    publication = make_publication(school_a, categories_a["parro"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    response = staff(director_a).post(one_off_url(publication, appearance), {})
    assert response.status_code == 404


GENERATED = hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(max_size=12)


@GENERATED
@given(school=TEXT, channel=TEXT, date=TEXT, description=st.text(max_size=210), caption=st.text(max_size=510))
def test_new_publication_under_generated_input(
    staff, director_a, categories_a, school_a, school, channel, date, description, caption
):
    """S-16: generated input never causes a 500; a rejected form stores nothing."""
    before = Publication.objects.count()
    data = {"school": school, "channel": channel, "date": date, "description": description, "caption": caption}
    response = staff(director_a).post(reverse("publication_new"), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Publication.objects.count() == before


@GENERATED
@given(pupils=st.lists(TEXT, max_size=4), group=TEXT)
def test_tick_pupils_under_generated_input(staff, director_a, categories_a, child, school_a, pupils, group):
    """S-16: generated pupil ids and group filters never cause a 500; a
    rejected form stores nothing."""
    publication = make_publication(school_a, categories_a["parro"], director_a)
    response = staff(director_a).post(f"{detail_url(publication)}?{urlencode({'group': group})}", {"pupils": pupils})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert not publication.appearances.exists()


@GENERATED
@given(guardian=TEXT, confirmed=st.sampled_from(["", "on", "x"]), name=TEXT, content=st.binary(max_size=40))
def test_one_off_consent_under_generated_input(
    staff, director_a, categories_a, child, mother, school_a, guardian, confirmed, name, content
):
    """S-16: generated input to the one-off form never causes a 500; a
    rejected form stores neither consent nor scan."""
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    prefix = f"oneoff-{appearance.pk}"
    documents = Document.objects.count()
    data = {f"{prefix}-guardian": guardian, f"{prefix}-confirmed": confirmed}
    if name:
        upload = io.BytesIO(content)
        upload.name = name
        data[f"{prefix}-file"] = upload
    response = staff(director_a).post(one_off_url(publication, appearance), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        appearance.refresh_from_db()
        assert appearance.one_off_consent_at is None and Document.objects.count() == documents


# --- Who may use the screens (S-11, S-12) ---------------------------------------------


@pytest.fixture
def cast(request):
    return {role: request.getfixturevalue(role) for role in ROLES}


def test_access_table(cast, staff, director_a, categories_a, child, school_a):
    """S-11, S-12: the full-access roles of school A use every screen; a
    teacher of school B has the list and the form for their own school and a
    404 for A's publication; the substitute, the support member and the FG
    have no publication screens (403) and the same 404 for the publication."""
    publication = make_publication(school_a, categories_a["website"], director_a, pupils=[child])
    appearance = publication.appearances.get()
    kwargs = {"publication_id": publication.pk}
    table = {
        reverse("publication_list"): {r: 200 if r in FULL_A | {"teacher_b"} else 403 for r in ROLES},
        reverse("publication_new"): {r: 200 if r in FULL_A | {"teacher_b"} else 403 for r in ROLES},
        reverse("publication_detail", kwargs=kwargs): {r: 200 if r in FULL_A else 404 for r in ROLES},
        reverse("publication_edit", kwargs=kwargs): {r: 200 if r in FULL_A else 404 for r in ROLES},
        one_off_url(publication, appearance): dict.fromkeys(ROLES, 405),
        reverse("publication_publish", kwargs=kwargs): dict.fromkeys(ROLES, 405),
        reverse("publication_take_down", kwargs=kwargs): dict.fromkeys(ROLES, 405),
    }
    for url, expected in table.items():
        got = {role: staff(user).get(url).status_code for role, user in cast.items()}
        assert got == expected, url


def test_detail_queries_do_not_grow_per_pupil(
    staff, director_a, categories_a, school_a, group5_a, django_assert_max_num_queries
):
    """STYLE 12: the check page costs the same for one pupil as for six."""
    publication = make_publication(school_a, categories_a["website"], director_a)
    client = staff(director_a)

    def add_pupil(n):
        pupil = make_pupil(school_a, group5_a, first=f"Kind{n}", last=f"Achternaam{n}")
        PublicationPupil.objects.create(publication=publication, pupil=pupil)

    add_pupil(0)
    with CaptureQueriesContext(connection) as one:
        client.get(detail_url(publication))
    for n in range(1, 6):
        add_pupil(n)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(detail_url(publication))


def test_list_queries_do_not_grow_per_publication(
    staff, director_a, categories_a, school_a, django_assert_max_num_queries
):
    """STYLE 12: the list page costs the same for one draft as for six."""
    client = staff(director_a)
    make_publication(school_a, categories_a["parro"], director_a)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("publication_list"))
    for _n in range(5):
        make_publication(school_a, categories_a["website"], director_a)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("publication_list"))


def test_takedown_list_queries_do_not_grow_with_publications(director_a, categories_a, child, mother, school_a):
    """R-CON-4, STYLE 12: the takedown list checks all live publications of a
    staff member in as many queries for 6 publications as for 2, and blocks
    the same pupils as the check of each publication alone."""
    answer(child, categories_a["parro"], mother, "refused", by=director_a)
    published = Publication.Status.PUBLISHED

    def measure(n):
        for _ in range(n):
            make_publication(school_a, categories_a["parro"], director_a, pupils=[child], status=published)
        with CaptureQueriesContext(connection) as ctx:
            listed = services.takedown_list(director_a)
        return len(ctx.captured_queries), listed

    queries_two, _listed = measure(2)
    queries_six, listed = measure(4)
    assert queries_two == queries_six
    assert len(listed) == 6 and all(blocked == [child] for _p, blocked in listed)
    for publication, _blocked in listed:
        assert [c.cleared for c in services.publication_check(publication)] == [False]
