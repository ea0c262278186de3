"""The organisation: foundation → schools → groups, and who works where (R-ORG-1/2)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_admin.roles import FoundationRole, SchoolRole


class Foundation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    fg_name = models.CharField(_("data protection officer"), max_length=200, blank=True)
    fg_email = models.EmailField(_("data protection officer e-mail"), blank=True)
    fg_phone = models.CharField(_("FG out-of-hours phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("foundation")
        verbose_name_plural = _("foundations")

    def __str__(self):
        return self.name


class School(models.Model):
    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="schools")
    brin = models.CharField(
        _("BRIN code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{2}[A-Z]{2}$", _("A BRIN code is two digits and two capitals."))],
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.brin})"


def current_school_year(today=None):
    """School years run from 1 August: 2026-11-28 is in '2026-2027'."""
    today = today or timezone.localdate()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


class Group(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="groups")
    school_year = models.CharField(_("school year"), max_length=9, validators=[RegexValidator(r"^\d{4}-\d{4}$")])
    grade = models.PositiveSmallIntegerField(
        _("grade (groep)"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    name = models.CharField(_("name"), max_length=40)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["school", "school_year", "grade", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year", "name"], name="group_unique_name"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=8), name="group_grade_1_8"),
        ]

    def __str__(self):
        return f"{self.name} ({self.school_year})"


class MembershipQuerySet(models.QuerySet):
    def current(self, today=None):
        """Memberships in force today; an expired one stops on the next request (S-14)."""
        today = today or timezone.localdate()
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=today),
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        )


class Membership(models.Model):
    """A staff member's role at one school. One person may hold different
    roles at different schools, and more than one at the same school."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=SchoolRole.choices)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set once by the hourly job when the end date has passed (S-28: claimed
    # atomically, so the expiry is recorded once however often beat fires).
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "school", "role"], name="membership_unique_role"),
        ]

    def __str__(self):
        return f"{self.get_role_display()} @ {self.school.brin}"


class FoundationMembership(models.Model):
    """Foundation-wide roles (FG, bestuurder): not tied to one school."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="foundation_memberships")
    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=FoundationRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("foundation role")
        verbose_name_plural = _("foundation roles")
        constraints = [
            models.UniqueConstraint(fields=["user", "foundation", "role"], name="foundation_role_unique"),
        ]

    def __str__(self):
        return f"{self.get_role_display()} @ {self.foundation}"
