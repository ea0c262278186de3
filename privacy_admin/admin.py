"""Django's admin is for the technical administrator (a superuser) only, and
sits behind the same second-factor gate as everything else. School staff
manage accounts through /beheer/, which is scoped to their schools."""

from django.contrib import admin

from privacy_admin.auditlog import audit_record
from privacy_admin.models import Foundation, FoundationMembership, Group, JobRun, School


def _superuser_only(request):
    user = request.user
    return user.is_active and user.is_superuser and user.is_verified()


admin.site.has_permission = _superuser_only
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


@admin.register(FoundationMembership)
class FoundationMembershipAdmin(admin.ModelAdmin):
    """Foundation roles (FG, bestuurder) are granted here; each change is
    audited like any other role change (S-22)."""

    list_display = ["user", "foundation", "role"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record("role.granted", request=request, obj=obj.user, details={"role": obj.role, "foundation": True})

    def delete_model(self, request, obj):
        audit_record("role.revoked", request=request, obj=obj.user, details={"role": obj.role, "foundation": True})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "started_at", "finished_at", "outcome"]

    def has_change_permission(self, request, obj=None):
        return False
