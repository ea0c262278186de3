"""Django's admin is for the technical administrator (a superuser) only, and
sits behind the same second-factor gate as everything else. School staff
manage accounts through /beheer/, which is scoped to their schools."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse

from privacy_admin import actions
from privacy_admin.auditlog import audit_record
from privacy_admin.middleware import safe_return_path
from privacy_admin.models import Foundation, FoundationMembership, Group, JobRun, Membership, School, User


def _superuser_only(request):
    user = request.user
    return user.is_active and user.is_superuser and user.is_verified()


def _admin_login(request, extra_context=None):
    """Django's admin has a password form of its own, which knows nothing of
    the throttle (S-2), the audit log (S-22) or the second factor (R-ACC-5), so
    it is never shown. The gate already sends anonymous requests for it to our
    login; this is the second lock, for a request that reaches it anyway."""
    target = safe_return_path(request, request.GET.get("next"), reverse("admin:index"))
    if _superuser_only(request):
        return redirect(target)
    if request.user.is_authenticated:
        # Logged in with both factors but not a technical administrator: our
        # login would send them straight back here, round and round.
        raise PermissionDenied
    return redirect_to_login(target)


def _admin_logout(request, extra_context=None):
    """The admin's "log out" button ends the session through our logout, which
    audits it."""
    from privacy_admin.views.auth import logout_view

    return logout_view(request)


admin.site.has_permission = _superuser_only
# Bound before the admin's URLs are built (autodiscover runs before the URLconf
# is imported), so /admin/login/ and /admin/logout/ lead here.
admin.site.login = _admin_login
admin.site.logout = _admin_logout
admin.site.site_header = "Privacy Admin"


@admin.register(Foundation)
class FoundationAdmin(admin.ModelAdmin):
    list_display = ["name", "fg_name", "fg_email"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "brin", "foundation"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "school", "school_year", "grade"]
    list_filter = ["school", "school_year"]


class AuditedRoleAdmin(admin.ModelAdmin):
    """Roles granted here (the first application admin of a school, the FG)
    are audited like any other role change (S-22)."""

    def _details(self, obj):
        return {"role": obj.role}

    def _school_id(self, obj):
        return getattr(obj, "school_id", None)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            "role.granted", request=request, obj=obj.user, school_id=self._school_id(obj), details=self._details(obj)
        )

    def delete_model(self, request, obj):
        audit_record(
            "role.revoked", request=request, obj=obj.user, school_id=self._school_id(obj), details=self._details(obj)
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(FoundationMembership)
class FoundationMembershipAdmin(AuditedRoleAdmin):
    list_display = ["user", "foundation", "role"]


@admin.register(Membership)
class MembershipAdmin(AuditedRoleAdmin):
    list_display = ["user", "school", "role", "valid_from", "valid_until"]
    list_filter = ["school", "role"]
    exclude = ["expiry_recorded_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Every change here is audited (S-22): (de)activation through the same
    named action as /beheer/, which ends the sessions of a deactivated user at
    once (S-7); any other change as "user.changed" naming the changed fields,
    never their values (the flags is_staff and is_superuser say what they
    became); a password set here ends the user's sessions."""

    FLAGS = ("is_staff", "is_superuser")

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data)
        activity = change and "is_active" in changed
        active = obj.is_active
        if activity:
            obj.is_active = not active  # let the named action make the change, with its audit
        super().save_model(request, obj, form, change)
        if activity:
            actions.user_set_active(obj, active, acting_user=request.user, request=request)
        if not change:
            audit_record("user.created", request=request, obj=obj)
            return
        changed.discard("is_active")
        if changed:
            details = {"fields": sorted(changed)}
            details.update({flag: getattr(obj, flag) for flag in self.FLAGS if flag in changed})
            audit_record("user.changed", request=request, obj=obj, details=details)

    def user_change_password(self, request, id, form_url=""):
        # Django's view gives no hook after a successful change: compare the
        # stored hash before and after, in one transaction with the audit.
        with transaction.atomic():
            before = User.objects.filter(pk=self._pk(id)).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User.objects.filter(pk=self._pk(id)).first()
            if request.method == "POST" and user is not None and user.password != before:
                actions.password_set_by_admin(user, acting_user=request.user, request=request)
        return response

    def _pk(self, object_id):
        try:
            return int(unquote(object_id))
        except (TypeError, ValueError):
            return None


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "started_at", "finished_at", "outcome"]

    def has_change_permission(self, request, obj=None):
        return False
