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


# Authenticator devices: administrators may see who has one and remove a lost one (the owner then
# sets up a new one at the next login), never read a secret key or its QR code. django-otp's own
# admin shows both, so it is replaced.
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # A filter on the key in the list's query string would let the key be guessed letter by letter.
        if lookup.split("__")[0] in ("key", "bin_key"):
            return False
        return super().lookup_allowed(lookup, value, request)
