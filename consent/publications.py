"""The way in to a publication and the named actions of the publication
screens (R-CON-4, R-CON-5). The rules themselves (who is cleared, names in a
caption, publishing, the one-off written consent) live in consent.services;
this module adds the staff acts around them, each audited in its own
transaction.

Publications are for staff with full access to the pupils of a school: they
choose from every pupil of it. A publication of any other school is the same
404 as one that does not exist (S-11).
"""

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from consent import services
from consent.models import Publication, PublicationPupil
from privacy_admin.auditlog import audit_record
from students import actions as dossier_actions

FULL_ACCESS = "dossier.all_pupils"


def publication_schools(user):
    """Schools where the user may register and check publications."""
    return user.schools_with(FULL_ACCESS)


def publication_for(user, publication_id):
    """One publication of the user's schools; 404 for any other (S-11)."""
    publication = (
        Publication.objects.select_related("school", "channel")
        .filter(
            pk=publication_id,
            school__in=publication_schools(user),
        )
        .first()
    )
    if publication is None:
        raise Http404
    return publication


def appearance_for(publication, appearance_id):
    """A pupil's appearance in this publication; 404 for one of another."""
    appearance = (
        PublicationPupil.objects.select_related("pupil", "publication")
        .filter(pk=appearance_id, publication=publication)
        .first()
    )
    if appearance is None:
        raise Http404
    return appearance


class NotDraft(Exception):
    """The publication was published or taken down meanwhile: its pupils and
    texts are fixed."""


def _lock_draft(publication):
    """Lock the row (as publishing does) and make sure it is still a draft, so
    a change cannot slip in between the check and publishing."""
    locked = Publication.objects.select_for_update().filter(pk=publication.pk).values_list("status", flat=True)
    if list(locked) != [Publication.Status.DRAFT]:
        raise NotDraft


def _audit(action, publication, *, acting_user, request, details=None):
    audit_record(
        action,
        actor=acting_user,
        request=request,
        obj=publication,
        school_id=publication.school_id,
        details=details,
    )


@transaction.atomic
def publication_create(*, school, channel, date, description, caption, acting_user, request=None):
    publication = Publication.objects.create(
        school=school,
        channel=channel,
        date=date,
        description=description,
        caption=caption,
        created_by=acting_user,
    )
    _audit(
        "consent.publication_created",
        publication,
        acting_user=acting_user,
        request=request,
        details={"channel": channel.key},
    )
    return publication


@transaction.atomic
def publication_change(publication, form, *, acting_user, request=None):
    """Date, description and caption, while the publication is a draft."""
    _lock_draft(publication)
    changed = sorted(form.changed_data)
    form.save()
    _audit(
        "consent.publication_changed",
        publication,
        acting_user=acting_user,
        request=request,
        details={"fields": changed},
    )
    return publication


@transaction.atomic
def publication_pupils_set(publication, *, scope, ticked, acting_user, request=None):
    """Make the ticked pupils of `scope` (the pupils shown on the form) the
    ones who appear; pupils outside the scope keep their place. The audit
    row counts, it does not name."""
    _lock_draft(publication)
    scope_ids = {p.pk for p in scope}
    ticked_ids = {p.pk for p in ticked} & scope_ids
    present = set(publication.appearances.filter(pupil_id__in=scope_ids).values_list("pupil_id", flat=True))
    removed = present - ticked_ids
    added = ticked_ids - present
    if removed:
        publication.appearances.filter(pupil_id__in=removed).delete()
    PublicationPupil.objects.bulk_create(
        [PublicationPupil(publication=publication, pupil_id=pupil_id) for pupil_id in sorted(added)]
    )
    if added or removed:
        _audit(
            "consent.publication_pupils_changed",
            publication,
            acting_user=acting_user,
            request=request,
            details={"added": len(added), "removed": len(removed)},
        )
    return len(added), len(removed)


@transaction.atomic
def one_off_consent_with_scan(appearance, *, guardian, access, upload=None, acting_user, request=None):
    """R-CON-4: the written consent for this publication, with the scan of
    the signed form kept in the pupil's dossier. The service refuses a parent
    without parental authority (R-CON-6); the scan is then rolled back too."""
    _lock_draft(appearance.publication)
    scan = None
    if upload is not None:
        scan = dossier_actions.document_add(access, upload, request=request)
    return services.one_off_consent_record(
        appearance, guardian=guardian, acting_user=acting_user, request=request, scan=scan
    )


@transaction.atomic
def publication_take_down(publication, *, acting_user, request=None):
    """Mark a live publication as taken off its channel. Claimed with one
    conditional update, so a double click records it once; returns False when
    it was not live (any more)."""
    now = timezone.now()
    live = Publication.objects.filter(pk=publication.pk, status=Publication.Status.PUBLISHED)
    if live.update(status=Publication.Status.TAKEN_DOWN, taken_down_at=now) != 1:
        return False
    publication.status = Publication.Status.TAKEN_DOWN
    publication.taken_down_at = now
    _audit("consent.publication_taken_down", publication, acting_user=acting_user, request=request)
    return True


@transaction.atomic
def publication_publish_draft(publication, *, acting_user, request=None):
    """Publish a draft through the service, which checks every pupil and the
    caption and raises ValidationError with the reasons. A published or
    taken-down publication is not published again."""
    _lock_draft(publication)
    return services.publication_publish(publication, acting_user=acting_user, request=request)
