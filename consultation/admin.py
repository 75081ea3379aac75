from django.contrib import admin

from .models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the application writes itself: superusers read them, nobody edits them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "target_label", "questionnaire", "client_address")
    list_filter = ("action", "questionnaire")
    list_select_related = ("questionnaire",)
    search_fields = ("actor_label", "target_label")
    date_hierarchy = "created_at"
