"""Home, health, and the application admin's pages (staff, roles, job runs, audit)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Exists, Max, OuterRef, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from privacy_admin import actions, roles
from privacy_admin.charts import bar_chart
from privacy_admin.forms import RoleGrantForm, StaffInviteForm
from privacy_admin.models import AuditEvent, JobRun, Membership, School, StaffTOTPDevice, User
from privacy_admin.roles import SchoolRole
from privacy_admin.views.auth import require_recent_second_factor


def require_capability(capability):
    def decorator(view):
        def wrapper(request, *args, **kwargs):
            if not request.user.has_capability(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        wrapper.required_capability = capability
        return wrapper

    return decorator


def healthz(request):
    """For a load balancer's or container's health check: 503 only when the
    database does not answer, since then no page works. Redis down is
    reported ("redis": "down", "status": "degraded") with a 200: the pages
    keep working without it and queued work waits until it is back (S-29),
    so taking the portal out of service would turn a degraded background
    into an outage."""
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception:
        status["database"] = "down"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
            status["redis"] = "ok"
        except Exception:
            status["redis"] = "down"
    if status["database"] != "ok":
        return JsonResponse({"status": "down", **status}, status=503)
    degraded = any(value != "ok" for value in status.values())
    return JsonResponse({"status": "degraded" if degraded else "ok", **status})


# The home page has one section per kind of work, most urgent first: the
# 72-hour clock of a data breach, then the director's inbox with its
# deadlines, then the application admin's purges and jobs, then the work with
# groups. A person holding several roles sees each of their sections. The
# sections' panels come from the apps' inclusion tags (the core imports no
# app); each tag works out for itself what the user may see.
SECTION_ORDER = ("foundation", "director", "admin", "teacher")
PUPIL_WORK_ROLES = {
    SchoolRole.TEACHER,
    SchoolRole.TEMP_TEACHER,
    SchoolRole.SUPPORT,
    SchoolRole.IB,
    SchoolRole.ADMINISTRATION,
}
JOB_ROWS = 12


def home_sections(user):
    """The sections of the home page this user holds, in order."""
    school_roles = {m.role for m in user.memberships_today()}
    held = {
        "foundation": bool(user.foundation_roles_today()),
        "director": SchoolRole.DIRECTOR in school_roles,
        "admin": SchoolRole.APP_ADMIN in school_roles,
        "teacher": bool(school_roles & PUPIL_WORK_ROLES),
    }
    return [name for name in SECTION_ORDER if held[name]]


def latest_job_runs(limit=JOB_ROWS):
    """The newest run of each job, failures first: a nightly purge that failed
    is not pushed out of sight by the jobs that run every few minutes."""
    newest = JobRun.objects.values("name").annotate(last=Max("pk")).values("last")
    runs = sorted(
        JobRun.objects.filter(pk__in=newest), key=lambda run: (run.outcome != JobRun.Outcome.FAILED, run.name)
    )
    return runs[:limit]


def home(request):
    user = request.user
    memberships = user.current_memberships().order_by("school__name", "role")
    foundation_roles = user.foundation_memberships.select_related("foundation")
    sections = home_sections(user)
    context = {"memberships": memberships, "foundation_roles": foundation_roles, "sections": sections}
    if "admin" in sections:
        if user.has_capability("jobs.view"):
            context["job_runs"] = latest_job_runs()
        if user.has_capability("staff.manage"):
            context["staff_status"] = staff_status(user)
    return render(request, "portal/home.html", context)


# --- Staff status: second factor and dormant accounts -------------------------

DORMANT_DAYS = 90


def managed_staff(user):
    """Accounts holding a role, current or not, at a school where `user`
    manages staff: the one set the staff list shows and the dashboard counts
    (S-12)."""
    schools = user.schools_with("staff.manage")
    return User.objects.filter(pk__in=Membership.objects.filter(school__in=schools).values("user_id"))


def _has_second_factor():
    return Exists(StaffTOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def _dormant(now):
    """Not used for DORMANT_DAYS: the last login, or for an account never
    used, its creation, lies further back."""
    cutoff = now - timedelta(days=DORMANT_DAYS)
    return Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)


# Filters of the staff list, each the set a dashboard number counts. Only
# active accounts: a deactivated one cannot log in and needs nothing done.
STAFF_FILTERS = {
    "active": lambda accounts, now: accounts.filter(is_active=True),
    "second_factor": lambda accounts, now: accounts.filter(_has_second_factor(), is_active=True),
    "no_second_factor": lambda accounts, now: accounts.filter(is_active=True).exclude(_has_second_factor()),
    "in_use": lambda accounts, now: accounts.filter(is_active=True).exclude(_dormant(now)),
    "dormant": lambda accounts, now: accounts.filter(_dormant(now), is_active=True),
}


def staff_filter_labels():
    days = {"days": DORMANT_DAYS}
    return {
        "active": _("Active accounts"),
        "second_factor": _("Active accounts with a confirmed two-step login"),
        "no_second_factor": _("Active accounts without a confirmed two-step login"),
        "in_use": _("Active accounts used in the last %(days)s days") % days,
        "dormant": _("Active accounts not used for %(days)s days") % days,
    }


def staff_status(user, now=None):
    """Counts for the application admin's dashboard, and their chart. Each
    number links to the staff list under the same filter."""
    now = now or timezone.now()
    accounts = managed_staff(user)
    counts = {key: STAFF_FILTERS[key](accounts, now).count() for key in STAFF_FILTERS}
    base = reverse("staff_list")
    links = {key: f"{base}?filter={key}" for key in STAFF_FILTERS}
    chart = bar_chart(
        chart_id="chart-staff",
        title=_("Staff accounts: two-step login and use"),
        description=_(
            "Active staff accounts of the schools you manage: whether two-step login is set up, "
            "and whether the account was used in the last %(days)s days."
        )
        % {"days": DORMANT_DAYS},
        categories=[
            ("second_factor", _("Two-step login set up")),
            ("used", _("Used in the last %(days)s days") % {"days": DORMANT_DAYS}),
        ],
        series=[("yes", _("Yes"), "chart-yes"), ("no", _("No"), "chart-no")],
        values={
            ("second_factor", "yes"): counts["second_factor"],
            ("second_factor", "no"): counts["no_second_factor"],
            ("used", "yes"): counts["in_use"],
            ("used", "no"): counts["dormant"],
        },
        links={
            ("second_factor", "yes"): links["second_factor"],
            ("second_factor", "no"): links["no_second_factor"],
            ("second_factor", None): links["active"],
            ("used", "yes"): links["in_use"],
            ("used", "no"): links["dormant"],
            ("used", None): links["active"],
        },
        horizontal=True,
        percent=True,
        value_label=_("Share of active accounts"),
        category_heading=_("Question"),
    )
    return {"counts": counts, "links": links, "days": DORMANT_DAYS, "chart": chart}


# --- Application admin --------------------------------------------------------


def staff_for_admin(request, user_id):
    """The one way to a staff account for the admin pages: the account must hold
    a role at a school where the acting user manages staff. Anything else is a
    404, the same as an account that does not exist (S-11)."""
    schools = request.user.schools_with("staff.manage")
    user = User.objects.filter(pk=user_id, memberships__school__in=schools).distinct().first()
    if user is None:
        raise Http404
    return user


def reaches_beyond_admin(acting_user, person):
    """Whether deactivating or resetting `person` would reach further than the
    schools where `acting_user` manages staff: a technical administrator, a
    foundation role (FG, bestuurder), or a membership, current or still to come,
    at a school where the acting user does not manage staff. Such accounts are
    changed by the technical administrator."""
    if person.is_superuser:
        return True
    if person.foundation_memberships.exists():
        return True
    managed = acting_user.schools_with("staff.manage")
    not_ended = Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate())
    return person.memberships.filter(not_ended).exclude(school__in=managed).exists()


def staff_for_account_change(request, user_id):
    """The one way to a staff account for acts on the whole account
    (deactivate, reset the second factor): staff_for_admin, and refused (403,
    with a message) when the account reaches beyond the admin's schools."""
    person = staff_for_admin(request, user_id)
    if reaches_beyond_admin(request.user, person):
        messages.error(
            request,
            _(
                "This account also has a role outside the schools you manage, or is a "
                "foundation or technical administrator account. Ask the technical administrator."
            ),
        )
        raise PermissionDenied
    return person


@require_capability("staff.manage")
def staff_list(request):
    schools = request.user.schools_with("staff.manage")
    memberships = (
        Membership.objects.filter(school__in=schools)
        .select_related("user", "school")
        .order_by("user__last_name", "user__first_name", "school__name")
    )
    chosen = request.GET.get("filter", "")
    filter_label = ""
    if chosen in STAFF_FILTERS:
        accounts = STAFF_FILTERS[chosen](managed_staff(request.user), timezone.now())
        memberships = memberships.filter(user__in=accounts)
        filter_label = staff_filter_labels()[chosen]
    elif chosen:
        messages.warning(request, _("This filter does not exist; all staff are shown."))
    enrolled = set(StaffTOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    people = {}
    for m in memberships:
        entry = people.setdefault(m.user_id, {"user": m.user, "memberships": [], "enrolled": m.user_id in enrolled})
        entry["memberships"].append(m)
    return render(request, "beheer/staff_list.html", {"people": people.values(), "filter_label": filter_label})


@require_capability("staff.manage")
def staff_invite(request):
    schools = request.user.schools_with("staff.manage")
    form = StaffInviteForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = actions.staff_invite(
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            school=data["school"],
            role=data["role"],
            valid_until=data["valid_until"],
            acting_user=request.user,
            request=request,
        )
        messages.success(request, _("The account was created; a link to set the password was e-mailed."))
        return redirect("staff_detail", user_id=user.pk)
    return render(request, "beheer/staff_invite.html", {"form": form})


@require_capability("staff.manage")
def staff_detail(request, user_id):
    person = staff_for_admin(request, user_id)
    schools = request.user.schools_with("staff.manage")
    form = RoleGrantForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.membership_grant(
            user=person,
            school=data["school"],
            role=data["role"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            acting_user=request.user,
            request=request,
        )
        messages.success(request, _("The role was granted."))
        return redirect("staff_detail", user_id=person.pk)
    return render(
        request,
        "beheer/staff_detail.html",
        {
            "person": person,
            "memberships": person.memberships.filter(school__in=schools).select_related("school"),
            "enrolled": person.totp_device() is not None,
            "account_change_allowed": not reaches_beyond_admin(request.user, person),
            "form": form,
        },
    )


@require_POST
@require_capability("staff.manage")
def staff_role_revoke(request, user_id, membership_id):
    person = staff_for_admin(request, user_id)
    membership = (
        Membership.objects.filter(pk=membership_id, user=person, school__in=request.user.schools_with("staff.manage"))
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    actions.membership_revoke(membership, acting_user=request.user, request=request)
    messages.success(request, _("The role was revoked."))
    return redirect("staff_detail", user_id=person.pk)


@require_POST
@require_capability("staff.manage")
@require_recent_second_factor
def staff_set_active(request, user_id):
    person = staff_for_account_change(request, user_id)
    if person == request.user:
        raise PermissionDenied
    active = request.POST.get("active") == "1"
    actions.user_set_active(person, active, acting_user=request.user, request=request)
    messages.success(
        request,
        _("The account was activated.") if active else _("The account was deactivated; its sessions were ended."),
    )
    return redirect("staff_detail", user_id=person.pk)


@require_POST
@require_capability("staff.manage")
@require_recent_second_factor
def staff_second_factor_reset(request, user_id):
    person = staff_for_account_change(request, user_id)
    actions.second_factor_reset(person, acting_user=request.user, request=request)
    messages.success(request, _("The two-step login was reset; the staff member sets it up again at the next login."))
    return redirect("staff_detail", user_id=person.pk)


@require_capability("roles.view")
def role_matrix(request):
    role_list, rows = roles.matrix()
    return render(request, "beheer/roles.html", {"roles": role_list, "rows": rows})


@require_capability("jobs.view")
def job_runs(request):
    page = Paginator(JobRun.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "beheer/jobs.html", {"page": page})


@require_capability("audit.view")
def audit_log(request):
    """The FG reads the whole log; a director or admin the events of their
    schools and of the staff of those schools."""
    user = request.user
    events = AuditEvent.objects.all()
    if not user.has_capability("foundation.overview"):
        schools = School.objects.filter(
            pk__in=[m.school_id for m in user.current_memberships() if "audit.view" in roles.capabilities_for(m.role)]
        )
        staff_ids = Membership.objects.filter(school__in=schools).values("user_id")
        events = events.filter(Q(school_id__in=schools.values("pk")) | Q(actor_id__in=staff_ids))
    page = Paginator(events.order_by("-seq"), 100).get_page(request.GET.get("page"))
    return render(request, "beheer/audit.html", {"page": page})
