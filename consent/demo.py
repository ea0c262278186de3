"""Demo consent data for `manage.py seed_demo`: the usual categories for every
school (R-CON-8), and for the pupils of 99MS a realistic spread of answers,
entered as paper forms by the administrative staff member through the same
action as the Toestemming tab (R-CON-1).

Most parents consent to the parent app; fewer to the website, social media
and the press; a few forms were never handed in (no answer is no consent);
one pair of parents in group 5 disagree about the website (the stricter
answer holds, R-CON-6), and one family objects to the NCO research. The
spread comes from a random.Random seeded per pupil number, so a run gives
the same answers on every machine; a pupil with any answer is skipped, so a
second run records nothing.
"""

import random

from consent import services
from consent.models import ConsentAnswer, ConsentCategory
from privacy_admin import published
from students.models import GuardianLink, Pupil

DEMO_BRIN = "99MS"
# key: chance that a family consents
CONSENT_CHANCE = {
    "parro": 0.92,
    "nieuwsbrief": 0.85,
    "schoolgids": 0.75,
    "website": 0.65,
    "sociale-media": 0.5,
    "pers": 0.45,
}
NO_FORM_CHANCE = 0.1


def _family_answers(rng, categories):
    answers = {}
    for key, category in categories.items():
        if category.kind == ConsentCategory.Kind.OBJECTION:
            answers[key] = ConsentAnswer.Value.GIVEN  # no objection
        else:
            chance = CONSENT_CHANCE.get(key, 0.6)
            answers[key] = ConsentAnswer.Value.GIVEN if rng.random() < chance else ConsentAnswer.Value.REFUSED
    return answers


def _record(pupil, guardian, categories, answers, entered_by):
    for key, value in answers.items():
        services.answer_record(
            pupil=pupil,
            category=categories[key],
            guardian=guardian,
            value=value,
            channel=ConsentAnswer.Channel.PAPER,
            acting_user=entered_by,
        )
    return len(answers)


def _demo_answers(school, entered_by):
    categories = {c.key: c for c in ConsentCategory.objects.filter(school=school, active=True)}
    pupils = list(
        Pupil.objects.filter(school=school, group__isnull=False, pupil_ref__startswith=school.brin)
        .select_related("group")
        .order_by("pupil_ref")
    )
    answered = set(ConsentAnswer.objects.filter(pupil__in=pupils).values_list("pupil_id", flat=True).distinct())
    holders = {}
    for link in GuardianLink.objects.filter(pupil__in=pupils, has_authority=True).select_related("guardian"):
        holders.setdefault(link.pupil_id, []).append(link.guardian)
    for guardians in holders.values():
        guardians.sort(key=lambda g: g.pk)
    group5 = [p for p in pupils if p.group.grade == 5]
    disagree = next((p for p in group5 if len(holders.get(p.pk, [])) >= 2), None)
    objects_nco = next((p for p in group5 if p is not disagree and holders.get(p.pk)), None)

    recorded = pupils_done = 0
    for pupil in pupils:
        guardians = holders.get(pupil.pk, [])
        if pupil.pk in answered or not guardians:
            continue
        rng = random.Random(f"privacy-admin-demo-consent:{pupil.pupil_ref}")  # noqa: S311 - synthetic data
        special = pupil in (disagree, objects_nco)
        if not special and rng.random() < NO_FORM_CHANCE:
            continue  # the form was never handed in
        answers = _family_answers(rng, categories)
        if pupil == disagree:
            answers["parro"] = answers["website"] = ConsentAnswer.Value.GIVEN
        if pupil == objects_nco and "onderzoek-nco" in categories:
            answers["onderzoek-nco"] = ConsentAnswer.Value.REFUSED
        for index, guardian in enumerate(guardians):
            own = dict(answers)
            if pupil == disagree and index == 1:
                own["website"] = ConsentAnswer.Value.REFUSED
            recorded += _record(pupil, guardian, categories, own, entered_by)
        pupils_done += 1
    return recorded, pupils_done


def _group5_email_guardian(school):
    """The parents' portal needs a group-5 parent with an address to sign in with."""
    links = GuardianLink.objects.filter(pupil__school=school, pupil__group__grade=5, has_authority=True)
    if links.exclude(guardian__email="").exists():
        return
    link = links.select_related("guardian").order_by("pupil__pupil_ref", "pk").first()
    if link is not None:
        link.guardian.email = f"ouder.groep5.{link.guardian.pk}@example.org"
        link.guardian.save(update_fields=["email"])


def seed(schools, staff, stdout):
    for school in schools.values():
        services.categories_seed(school)
    recorded = pupils_done = 0
    school = schools.get(DEMO_BRIN)
    if school is not None:
        with published.pinned():
            recorded, pupils_done = _demo_answers(school, staff.get("admin.a"))
        _group5_email_guardian(school)
    categories = ConsentCategory.objects.filter(school__in=schools.values()).count()
    stdout.write(
        f"Demo consent: {categories} categories in {len(schools)} schools, "
        f"{recorded} answers recorded for {pupils_done} pupils."
    )
