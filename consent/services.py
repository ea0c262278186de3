"""Consent rules and the named actions that change consent data.

Every write is one transaction with its audit event. The effective answer is
computed from the newest answer of each parent with parental authority
(R-CON-6): for a consent, given only when at least one of them gave it and
none refused; no answer is no consent. For an objection (NCO research,
R-DIS-4) the pupil takes part unless a parent with authority objected.
"""

import datetime
import re
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consent.models import ConsentAnswer, ConsentCategory, Publication, QuestionVersion
from privacy_admin.auditlog import audit_record
from privacy_admin.published import current_statement_version
from students.models import GuardianLink, Pupil

DEFAULT_CATEGORIES = [
    # key, Dutch label, English label, kind, parent app, publication channel, Dutch question, English question
    (
        "parro",
        "Ouderapp (Parro)",
        "Parent app (Parro)",
        "consent",
        True,
        True,
        "Mogen foto's en video's waarop uw kind herkenbaar is, gemaakt door of voor de school, in de ouderapp "
        "Parro worden gedeeld met de ouders van de groep?",
        "May photos and videos in which your child is recognisable, made by or for the school, be shared in "
        "the parent app Parro with the parents of the group?",
    ),
    (
        "nieuwsbrief",
        "Nieuwsbrief",
        "Newsletter",
        "consent",
        False,
        True,
        "Mogen foto's waarop uw kind herkenbaar is in de nieuwsbrief van de school staan?",
        "May photos in which your child is recognisable appear in the school's newsletter?",
    ),
    (
        "schoolgids",
        "Schoolgids en brochure",
        "School guide and brochure",
        "consent",
        False,
        True,
        "Mogen foto's waarop uw kind herkenbaar is in de schoolgids of een brochure van de school staan?",
        "May photos in which your child is recognisable appear in the school guide or a school brochure?",
    ),
    (
        "website",
        "Website",
        "Website",
        "consent",
        False,
        True,
        "Mogen foto's en video's waarop uw kind herkenbaar is op de website van de school staan?",
        "May photos and videos in which your child is recognisable appear on the school's website?",
    ),
    (
        "sociale-media",
        "Sociale media",
        "Social media",
        "consent",
        False,
        True,
        "Mogen foto's en video's waarop uw kind herkenbaar is op sociale media van de school staan?",
        "May photos and videos in which your child is recognisable appear on the school's social media?",
    ),
    (
        "pers",
        "Pers",
        "Press",
        "consent",
        False,
        True,
        "Mag uw kind herkenbaar in beeld komen in een persbericht van de school?",
        "May your child appear recognisably in a press release of the school?",
    ),
    (
        "onderzoek-nco",
        "Onderzoek (NCO/CBS)",
        "Research (NCO/CBS)",
        "objection",
        False,
        False,
        "De school stuurt de resultaten van de taal- en rekentoetsen met identificerende gegevens naar het CBS "
        "voor het Nationaal Cohortonderzoek Onderwijs. Gaat u daarmee akkoord? Antwoord 'nee' betekent "
        "bezwaar.",
        "The school sends the results of the language and arithmetic tests with identifying data to CBS for "
        "the National Cohort Study on Education. Do you agree? Answering 'no' means you object.",
    ),
]


@transaction.atomic
def categories_seed(school):
    """The usual categories of R-CON-8, once per school."""
    for order, (key, nl, en, kind, parent_app, channel, q_nl, q_en) in enumerate(DEFAULT_CATEGORIES):
        category, created = ConsentCategory.objects.get_or_create(
            school=school,
            key=key,
            defaults={
                "label_nl": nl,
                "label_en": en,
                "kind": kind,
                "is_parent_app": parent_app,
                "is_publication_channel": channel,
                "order": order,
            },
        )
        if created or not category.versions.exists():
            QuestionVersion.objects.create(category=category, number=1, text_nl=q_nl, text_en=q_en)


@transaction.atomic
def question_text_change(category, *, text_nl, text_en, acting_user, request=None):
    """A changed question is a new version; earlier answers keep theirs (R-CON-7)."""
    current = category.current_version()
    if current is not None and current.text_nl == text_nl and current.text_en == text_en:
        return current
    version = QuestionVersion.objects.create(
        category=category,
        number=(current.number + 1) if current else 1,
        text_nl=text_nl,
        text_en=text_en,
        created_by=acting_user,
    )
    audit_record(
        "consent.question_changed",
        actor=acting_user,
        request=request,
        obj=category,
        school_id=category.school_id,
        details={"version": version.number},
    )
    return version


def authority_guardian_ids(pupil):
    return set(GuardianLink.objects.filter(pupil=pupil, has_authority=True).values_list("guardian_id", flat=True))


@transaction.atomic
def answer_record(*, pupil, category, guardian, value, channel, acting_user=None, request=None, scan=None, ground=""):
    """Record one parent's answer. Only a parent with parental authority gives
    or withdraws consent (R-CON-6); the answer keeps who, when, how and the
    exact question text (R-CON-7)."""
    if category.school_id != pupil.school_id or not category.active:
        raise PermissionDenied
    if guardian.pk not in authority_guardian_ids(pupil):
        raise PermissionDenied(_("Only a parent with parental authority can give or withdraw consent."))
    if value not in ConsentAnswer.Value.values or channel not in ConsentAnswer.Channel.values:
        raise ValidationError(_("Unknown answer or channel."))
    answer = ConsentAnswer.objects.create(
        pupil=pupil,
        category=category,
        guardian=guardian,
        value=value,
        version=category.current_version(),
        channel=channel,
        entered_by=acting_user,
        scan=scan,
        at=timezone.now(),
        statement_version=current_statement_version(pupil.school_id),
    )
    audit_record(
        "consent.answered",
        actor=acting_user,
        actor_label="" if acting_user else f"guardian #{guardian.pk}",
        request=request,
        obj=answer,
        pupil_id=pupil.pk,
        school_id=pupil.school_id,
        ground=ground or ("ouder met gezag" if acting_user is None else "papieren formulier"),
        details={"category": category.key, "channel": channel},
    )
    return answer


class NewestAnswer(NamedTuple):
    """The fields of a ConsentAnswer the effective answer is made of: read as
    tuples, since a group's matrix reads hundreds (bench/portal.py)."""

    pk: int
    pupil_id: int
    category_id: int
    guardian_id: int
    value: str
    at: datetime.datetime
    channel: str


@dataclass(frozen=True)
class Effective:
    allowed: bool
    state: str  # "given", "refused", "none" (consent) / "objected", "no_objection" (objection)
    answers: dict  # guardian_id -> NewestAnswer of each parent with authority who answered


def effective_answers(pupils, categories):
    """{(pupil_id, category_id): Effective} for every pair, in three queries."""
    pupil_ids = [p.pk for p in pupils]
    category_ids = [c.pk for c in categories]
    authority = {}
    for link in GuardianLink.objects.filter(pupil_id__in=pupil_ids, has_authority=True).only("pupil_id", "guardian_id"):
        authority.setdefault(link.pupil_id, set()).add(link.guardian_id)
    newest = {}
    rows = ConsentAnswer.objects.filter(pupil_id__in=pupil_ids, category_id__in=category_ids).order_by("at", "pk")
    for row in rows.values_list(*NewestAnswer._fields):
        answer = NewestAnswer(*row)
        newest[(answer.pupil_id, answer.category_id, answer.guardian_id)] = answer
    result = {}
    for pupil_id in pupil_ids:
        holders = authority.get(pupil_id, set())
        for category in categories:
            answers = {g: newest[(pupil_id, category.pk, g)] for g in holders if (pupil_id, category.pk, g) in newest}
            result[(pupil_id, category.pk)] = effective_of(category, answers)
    return result


def effective_of(category, answers):
    """The Effective for one pupil and category, from {guardian_id: newest
    answer} of the parents with authority who answered (R-CON-6)."""
    values = {a.value for a in answers.values()}
    if category.kind == ConsentCategory.Kind.OBJECTION:
        objected = ConsentAnswer.Value.REFUSED in values
        return Effective(not objected, "objected" if objected else "no_objection", answers)
    if ConsentAnswer.Value.REFUSED in values:
        return Effective(False, "refused", answers)
    if ConsentAnswer.Value.GIVEN in values:
        return Effective(True, "given", answers)
    return Effective(False, "none", answers)


def effective(pupil, category):
    return effective_answers([pupil], [category])[(pupil.pk, category.pk)]


# --- Publications (R-CON-4, R-CON-5) -----------------------------------------


@dataclass(frozen=True)
class Clearance:
    pupil: Pupil
    cleared: bool
    reason: str
    appearance_id: int | None = None


def publication_check(publication):
    """Who may appear: on the parent app, those whose parents consented to it;
    on any other channel only those with a one-off written consent for this
    publication (R-CON-4)."""
    return publication_checks([publication])[publication.pk]


def publication_checks(publications):
    """{publication id: publication_check(publication)} for many publications
    in as many queries as for one (the takedown list of a teacher)."""
    from consent.models import PublicationPupil

    publications = {publication.pk: publication for publication in publications}
    appearances = list(
        PublicationPupil.objects.filter(publication_id__in=publications)
        .select_related("pupil", "pupil__group")
        .order_by("pupil__last_name", "pk")
    )
    pupils = list({appearance.pupil_id: appearance.pupil for appearance in appearances}.values())
    channels = list({publication.channel_id: publication.channel for publication in publications.values()}.values())
    answers = effective_answers(pupils, channels)
    checks = {pk: [] for pk in publications}
    for appearance in appearances:
        publication = publications[appearance.publication_id]
        checks[publication.pk].append(_clearance(publication, appearance, answers))
    return checks


def _clearance(publication, appearance, answers):
    """The Clearance of one appearance, from the effective standing answers."""
    standing = answers[(appearance.pupil_id, publication.channel_id)]
    one_off = appearance.one_off_consent_at
    withdrawn = one_off is not None and any(
        a.value == ConsentAnswer.Value.REFUSED and a.at > one_off for a in standing.answers.values()
    )
    # The stricter parent wins (R-CON-6): one parent's written consent does
    # not override the standing refusal of another parent with authority.
    other_refuses = one_off is not None and any(
        a.value == ConsentAnswer.Value.REFUSED and guardian_id != appearance.one_off_consent_by_id
        for guardian_id, a in standing.answers.items()
    )
    if other_refuses:
        return Clearance(appearance.pupil, False, _("another parent with authority refused"), appearance.pk)
    if withdrawn:
        # A refusal after the one-off consent withdraws it: consent can be
        # withdrawn at any moment and the stricter parent wins (R-CON-2, R-CON-6).
        return Clearance(appearance.pupil, False, _("consent withdrawn after it was given"), appearance.pk)
    if one_off is not None:
        return Clearance(appearance.pupil, True, _("written consent for this publication"), appearance.pk)
    if publication.channel.is_parent_app and standing.allowed:
        return Clearance(appearance.pupil, True, _("consent for the parent app"), appearance.pk)
    if publication.channel.is_parent_app:
        return Clearance(appearance.pupil, False, _("no consent for the parent app"), appearance.pk)
    return Clearance(appearance.pupil, False, _("needs written consent for this publication"), appearance.pk)


def has_one_off_since(pupil, category, guardian, since):
    """Whether this parent signed a one-off consent for a publication on this
    channel after `since`: repeating a refusal then withdraws it (R-CON-2)."""
    from consent.models import PublicationPupil

    appearances = PublicationPupil.objects.filter(
        pupil=pupil, publication__channel=category, one_off_consent_by=guardian, one_off_consent_at__isnull=False
    )
    if since is not None:
        appearances = appearances.filter(one_off_consent_at__gt=since)
    return appearances.exists()


# Prefixes of Dutch (and neighbouring) surnames, tussenvoegsels: a last name
# written "de Wit" or "van den Berg" is a name by its last word, and "de" or
# "van" in a caption ("Groep 5 van de Vlinder") names nobody.
NAME_PREFIXES = frozenset(
    "aan af auf bij d da dal de del della den der des di die do dos du el het in la le les lo "
    "onder op over s t te ten ter tot uit uijt van vande vanden vander ver von vom voor zu".split()
)


def caption_names(publication):
    """First or last names of pupils of the school that appear in the caption
    as whole words (R-CON-5); the prefixes of surnames do not count."""
    caption = publication.caption or ""
    if not caption.strip():
        return []
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", caption)}
    found = set()
    names = Pupil.objects.filter(school_id=publication.school_id).values_list("first_name", "last_name")
    for first, last in names:
        for name in (first, last):
            for part in re.findall(r"[^\W\d_]+", name):
                if len(part) >= 2 and part.lower() in words and part.lower() not in NAME_PREFIXES:
                    found.add(part)
    return sorted(found)


@transaction.atomic
def publication_publish(publication, *, acting_user, request=None):
    """Mark as published, only when every pupil shown is cleared and the
    caption names no pupil."""
    publication = Publication.objects.select_for_update().get(pk=publication.pk)
    if publication.status != Publication.Status.DRAFT:
        raise ValidationError(_("Only a draft can be published."))
    blocked = [c for c in publication_check(publication) if not c.cleared]
    names = caption_names(publication)
    errors = []
    if blocked:
        errors.append(
            ngettext(
                "%(n)s pupil may not appear in this publication.",
                "%(n)s pupils may not appear in this publication.",
                len(blocked),
            )
            % {"n": len(blocked)}
        )
    if names:
        errors.append(_("The caption contains a pupil's name; photos and videos never carry children's names."))
    if errors:
        raise ValidationError(errors)
    publication.status = Publication.Status.PUBLISHED
    publication.published_at = timezone.now()
    publication.save(update_fields=["status", "published_at"])
    audit_record(
        "consent.publication_published",
        actor=acting_user,
        request=request,
        obj=publication,
        school_id=publication.school_id,
        details={"pupils": publication.appearances.count()},
    )
    return publication


def takedown_list(user):
    """Live publications of this user that show a pupil who is no longer
    cleared, e.g. after a parent withdrew consent (R-CON-4)."""
    live = list(
        Publication.objects.filter(created_by=user, status=Publication.Status.PUBLISHED).select_related("channel")
    )
    checks = publication_checks(live)
    result = []
    for publication in live:
        blocked = [c.pupil for c in checks[publication.pk] if not c.cleared]
        if blocked:
            result.append((publication, blocked))
    return result


@transaction.atomic
def one_off_consent_record(appearance, *, guardian, acting_user, request=None, scan=None):
    """R-CON-4: an explicit written consent for this one publication, given by
    a parent with parental authority."""
    if guardian.pk not in authority_guardian_ids(appearance.pupil):
        raise PermissionDenied(_("Only a parent with parental authority can give consent."))
    appearance.one_off_consent_at = timezone.now()
    appearance.one_off_consent_by = guardian
    appearance.one_off_recorded_by = acting_user
    appearance.one_off_scan = scan
    appearance.save(update_fields=["one_off_consent_at", "one_off_consent_by", "one_off_recorded_by", "one_off_scan"])
    audit_record(
        "consent.one_off_recorded",
        actor=acting_user,
        request=request,
        obj=appearance.publication,
        pupil_id=appearance.pupil_id,
        school_id=appearance.pupil.school_id,
        ground="schriftelijke toestemming",
    )
    return appearance
