"""The publication check for staff (R-CON-4, R-CON-5): register a publication,
tick the pupils who appear, see who may not appear and why, record a one-off
written consent, publish, and take down what a withdrawn consent no longer
covers. Thin views: the access function gives the publication, an action in
consent.publications or consent.services writes and audits."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consent import publications, services
from consent.forms_publications import (
    GroupFilterForm,
    OneOffConsentForm,
    PublicationForm,
    PublicationNewForm,
    PupilsForm,
)
from consent.models import Publication
from students.policy import dossier_access, visible_pupils


def _schools_or_403(user):
    """Publications are for roles with all pupils of a school in view; others
    get a 403, not an empty page."""
    schools = publications.publication_schools(user)
    if not schools.exists():
        raise PermissionDenied
    return schools


def publication_list(request):
    schools = _schools_or_403(request.user)
    school_ids = set(schools.values_list("pk", flat=True))
    # Only what the user may see today: a publication made at a school they
    # have since left stays off their list.
    takedown = [(p, blocked) for p, blocked in services.takedown_list(request.user) if p.school_id in school_ids]
    rows = (
        Publication.objects.filter(school__in=school_ids)
        .select_related("school", "channel", "created_by")
        .annotate(pupil_count=Count("appearances"))
        .order_by("-date", "-pk")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "consent/publication_list.html",
        {"page": page, "takedown": takedown, "many_schools": len(school_ids) > 1},
    )


def publication_new(request):
    schools = _schools_or_403(request.user)
    form = PublicationNewForm(request.POST or None, schools=schools, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        publication = publications.publication_create(
            **{name: form.cleaned_data[name] for name in ("school", "channel", "date", "description", "caption")},
            acting_user=request.user,
            request=request,
        )
        messages.success(request, _("The publication was registered. Now tick the pupils who appear in it."))
        return redirect("publication_detail", publication_id=publication.pk)
    return render(request, "consent/publication_form.html", {"form": form, "title": _("New publication")})


def publication_edit(request, publication_id):
    publication = publications.publication_for(request.user, publication_id)
    if publication.status != Publication.Status.DRAFT:
        messages.error(request, _("Only a draft publication can be changed."))
        return redirect("publication_detail", publication_id=publication.pk)
    form = PublicationForm(request.POST or None, instance=publication)
    if request.method == "POST" and form.is_valid():
        try:
            publications.publication_change(publication, form, acting_user=request.user, request=request)
        except publications.NotDraft:
            messages.error(request, _("Only a draft publication can be changed."))
        else:
            messages.success(request, _("The publication was saved."))
        return redirect("publication_detail", publication_id=publication.pk)
    return render(
        request,
        "consent/publication_form.html",
        {"form": form, "publication": publication, "title": _("Change publication")},
    )


def _pupil_scope(request, publication):
    """The pupils the tick form shows: those of the publication's school the
    user may see (S-12) who have not left before the publication's date,
    narrowed to one group when asked."""
    group_form = GroupFilterForm(request.GET or None, school=publication.school)
    pupils = visible_pupils(request.user).filter(
        Q(enrolment__left_on__isnull=True) | Q(enrolment__left_on__gte=publication.date), school=publication.school
    )
    if group_form.is_valid() and group_form.cleaned_data["group"]:
        pupils = pupils.filter(group=group_form.cleaned_data["group"])
    pupils = pupils.select_related("group").order_by("group__grade", "group__name", "last_name", "first_name", "pk")
    return group_form, pupils


def _grouped(pupils, ticked_ids):
    """[(group or None, [(pupil, ticked)])] in the order of the queryset."""
    groups = []
    for pupil in pupils:
        if not groups or groups[-1][0] != pupil.group:
            groups.append((pupil.group, []))
        groups[-1][1].append((pupil, pupil.pk in ticked_ids))
    return groups


def _one_off_forms(publication, check, appearance_ids, bound):
    """R-CON-4: on any channel but the parent app, a form per pupil who is
    not cleared, for the written consent for this publication."""
    uncleared = {c.pupil.pk: c.pupil for c in check if not c.cleared}
    forms = {}
    for pupil_id, pupil in uncleared.items():
        prefix = f"oneoff-{appearance_ids[pupil_id]}"
        if bound is not None and bound.prefix == prefix:
            forms[pupil_id] = bound
        else:
            # Built when first used: the page renders one form at a time, so
            # only that form reads its pupil's parents.
            forms[pupil_id] = SimpleLazyObject(partial(OneOffConsentForm, pupil=pupil, prefix=prefix))
    return forms


def _render_detail(request, publication, *, pupils_form=None, one_off_form=None):
    draft = publication.status == Publication.Status.DRAFT
    check = services.publication_check(publication)
    appearance_ids = {c.pupil.pk: c.appearance_id for c in check}
    one_off_forms = {}
    if draft and not publication.channel.is_parent_app:
        one_off_forms = _one_off_forms(publication, check, appearance_ids, one_off_form)
    # One written-consent form is rendered at a time: the one opened from the
    # check's table (?oneoff=<appearance>), or the one just posted with an
    # error. Rendering one per blocked pupil made the page grow by a whole
    # form per pupil (bench/portal.py: 14 x the floor for a group of 50).
    open_one_off = one_off_form.prefix.removeprefix("oneoff-") if one_off_form else request.GET.get("oneoff", "")
    open_one_off = int(open_one_off) if open_one_off.isascii() and open_one_off.isdigit() else None
    keep = request.GET.copy()
    keep.pop("oneoff", None)
    context = {
        "publication": publication,
        "draft": draft,
        "rows": [(c, appearance_ids[c.pupil.pk], one_off_forms.get(c.pupil.pk)) for c in check],
        "blocked_count": sum(1 for c in check if not c.cleared),
        "caption_names": services.caption_names(publication),
        "open_one_off": open_one_off,
        "has_one_off_forms": any(appearance_ids[pk] == open_one_off for pk in one_off_forms),
        "one_off_query": keep.urlencode(),
    }
    if draft:
        group_form, scope = _pupil_scope(request, publication)
        if pupils_form is not None:
            ticked = {int(v) for v in pupils_form["pupils"].value() or [] if str(v).isascii() and str(v).isdigit()}
        else:
            ticked = set(appearance_ids)
        context.update(
            group_form=group_form,
            pupils_form=pupils_form,
            grouped=_grouped(scope, ticked),
            query=request.GET.urlencode(),
        )
    return render(request, "consent/publication_detail.html", context)


def publication_detail(request, publication_id):
    """The check, and (for a draft) the pupils who appear: a POST replaces the
    ticks among the pupils shown."""
    publication = publications.publication_for(request.user, publication_id)
    if request.method != "POST":
        return _render_detail(request, publication)
    if publication.status != Publication.Status.DRAFT:
        messages.error(request, _("The pupils of a publication can only be changed while it is a draft."))
        return redirect("publication_detail", publication_id=publication.pk)
    _group_form, scope = _pupil_scope(request, publication)
    form = PupilsForm(request.POST, pupils=scope)
    if not form.is_valid():
        return _render_detail(request, publication, pupils_form=form)
    try:
        publications.publication_pupils_set(
            publication, scope=scope, ticked=form.cleaned_data["pupils"], acting_user=request.user, request=request
        )
    except publications.NotDraft:
        messages.error(request, _("The pupils of a publication can only be changed while it is a draft."))
    else:
        messages.success(request, _("The pupils who appear were saved."))
    url = request.path + (f"?{request.GET.urlencode()}" if request.GET else "")
    return redirect(url)


@require_POST
def publication_one_off(request, publication_id, appearance_id):
    """R-CON-4: record the written consent of a parent with authority for one
    pupil in this publication. A parent without authority is refused by the
    service with a 403 (R-CON-6)."""
    publication = publications.publication_for(request.user, publication_id)
    appearance = publications.appearance_for(publication, appearance_id)
    if publication.channel.is_parent_app:
        raise Http404
    if publication.status != Publication.Status.DRAFT:
        messages.error(request, _("A written consent is recorded while the publication is a draft."))
        return redirect("publication_detail", publication_id=publication.pk)
    if appearance.one_off_consent_at is not None:
        # The recorded consent is evidence: it is not overwritten.
        messages.info(request, _("A written consent for this pupil and publication is already recorded."))
        return redirect("publication_detail", publication_id=publication.pk)
    access = dossier_access(request.user, appearance.pupil_id)
    form = OneOffConsentForm(request.POST, request.FILES, pupil=appearance.pupil, prefix=f"oneoff-{appearance.pk}")
    if not form.is_valid():
        return _render_detail(request, publication, one_off_form=form)
    try:
        publications.one_off_consent_with_scan(
            appearance,
            guardian=form.cleaned_data["guardian"],
            access=access,
            upload=form.cleaned_data["file"],
            acting_user=request.user,
            request=request,
        )
    except publications.NotDraft:
        messages.error(request, _("A written consent is recorded while the publication is a draft."))
    else:
        messages.success(request, _("The written consent for this publication was recorded."))
    return redirect("publication_detail", publication_id=publication.pk)


@require_POST
def publication_publish(request, publication_id):
    publication = publications.publication_for(request.user, publication_id)
    try:
        publications.publication_publish_draft(publication, acting_user=request.user, request=request)
    except publications.NotDraft:
        messages.error(request, _("Only a draft publication can be published."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        messages.error(request, _("The publication was not published."))
    else:
        messages.success(request, _("The publication is marked as published."))
    return redirect("publication_detail", publication_id=publication.pk)


@require_POST
def publication_take_down(request, publication_id):
    publication = publications.publication_for(request.user, publication_id)
    if publications.publication_take_down(publication, acting_user=request.user, request=request):
        messages.success(request, _("The publication is marked as taken down."))
    else:
        messages.info(request, _("This publication is not live, so there is nothing to take down."))
    if request.POST.get("back") == "list":
        return redirect("publication_list")
    return redirect("publication_detail", publication_id=publication.pk)
