from allauth.account import admin as allauth_admin
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    """The admin history, to read: who issued, revoked, granted and edited what, and when.
    Nobody edits or deletes it here."""

    list_display = ["action_time", "user", "action_flag", "content_type", "object_repr", "message"]
    list_filter = ["action_flag", ("user", admin.RelatedOnlyFieldListFilter), "content_type"]
    list_select_related = ["user", "content_type"]
    search_fields = ["object_repr", "change_message", "user__email"]
    date_hierarchy = "action_time"

    @admin.display(description=_("what"))
    def message(self, entry):
        return entry.get_change_message()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EmailAddressAdmin(allauth_admin.EmailAddressAdmin):
    """allauth's, with its action declaring what it changes: marking an address verified
    needs the permission to change e-mail addresses, not only to see them."""

    @admin.action(
        description=_("Mark selected email addresses as verified"), permissions=["change"]
    )
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)


admin.site.unregister(EmailAddress)
admin.site.register(EmailAddress, EmailAddressAdmin)
