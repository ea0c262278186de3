from django.contrib import admin

from breaches.models import ParentLetterTemplate


@admin.register(ParentLetterTemplate)
class ParentLetterTemplateAdmin(admin.ModelAdmin):
    """Each school's text of the notice to parents (R-BRK-3), kept by the
    technical administrator until the schools get a page of their own."""

    list_display = ("school",)
