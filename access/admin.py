import base64

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from access import services
from access.forms import IssuePinsForm
from access.models import AccessPin, Entitlement, RedemptionAttempt


class PinStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AccessPin.Status.choices

    def queryset(self, request, queryset):
        """An unknown status in the address (a stale or hand-edited link) filters nothing."""
        if self.value() in AccessPin.Status.values:
            return queryset.with_status(self.value())
        return queryset


@admin.register(AccessPin)
class AccessPinAdmin(admin.ModelAdmin):
    list_display = [
        "masked", "series", "uses_left_display", "expires_at", "status_display", "note",
        "batch", "created_at",
    ]  # fmt: skip
    list_filter = [PinStatusFilter, "series", "batch"]
    list_select_related = ["series"]
    search_fields = ["hint", "note", "batch"]
    readonly_fields = [
        "masked", "series", "lessons_display", "max_uses", "use_count", "access_days",
        "revoked_at", "revoked_reason", "issued_by", "created_at", "redemptions",
    ]  # fmt: skip
    fields = [
        "masked", "series", "lessons_display", "max_uses", "use_count", "expires_at",
        "access_days", "note", "batch", "revoked_at", "revoked_reason", "issued_by", "created_at",
        "redemptions",
    ]  # fmt: skip
    actions = ["revoke", "revoke_with_access"]
    date_hierarchy = "created_at"
    RECENT_ATTEMPTS = 50

    @admin.display(description="PIN", ordering="hint")
    def masked(self, pin):
        return f"••••-••••-{pin.hint}"

    @admin.display(description="uses left")
    def uses_left_display(self, pin):
        return f"{pin.uses_left} of {pin.max_uses}"

    @admin.display(description="status")
    def status_display(self, pin):
        return pin.status().label

    @admin.display(description="lessons")
    def lessons_display(self, pin):
        if pin.whole_series:
            return "All premium lessons of the series"
        numbers = [str(lesson.number) for lesson in pin.lessons.order_by("number")]
        return ", ".join(numbers) or "None (its lessons were deleted)"

    @admin.display(description="redemptions and attempts")
    def redemptions(self, pin):
        attempts = pin.attempts.select_related("user")[: self.RECENT_ATTEMPTS]
        log = reverse("admin:access_redemptionattempt_changelist") + f"?pin__id__exact={pin.pk}"
        return format_html(
            "{}<p><a href='{}'>All attempts with this PIN ({})</a></p>",
            format_html_join(
                "",
                "<div>{} · {} · {} · {}</div>",
                (
                    (
                        localtime(a.created_at).strftime("%Y-%m-%d %H:%M"),
                        a.user or "deleted user",
                        a.get_outcome_display(),
                        a.ip or "no IP",
                    )
                    for a in attempts
                ),
            )
            or "None yet.",
            log,
            pin.attempts.count(),
        )

    @admin.action(description="Revoke selected PINs (readers keep what they unlocked)")
    def revoke(self, request, queryset):
        pins, _ = services.revoke_pins(queryset, reason=f"Revoked by {request.user}")
        self.message_user(request, f"Revoked {pins} PIN(s).", messages.SUCCESS)

    @admin.action(description="Revoke selected PINs and the access they granted")
    def revoke_with_access(self, request, queryset):
        pins, ended = services.revoke_pins(
            queryset, reason=f"Revoked by {request.user}", revoke_access=True
        )
        self.message_user(
            request, f"Revoked {pins} PIN(s) and {ended} entitlement(s).", messages.SUCCESS
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the log keeps pointing at the PIN

    def get_urls(self):
        issue = self.admin_site.admin_view(self.issue_view)
        return [path("issue/", issue, name="access_accesspin_issue"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:access_accesspin_issue")

    def issue_view(self, request):
        """Issue one PIN or a batch. The result page is the only time the PINs are shown."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssuePinsForm(request.POST or None, initial=request.GET.dict())
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form}
        if request.method == "POST" and form.is_valid():
            issued = form.issue(issued_by=request.user)
            series = form.cleaned_data["series"]
            csv_text = services.pins_csv(issued)
            context |= {
                "title": f"{len(issued)} PIN(s) issued",
                "issued": issued,
                "series": series,
                "csv_data_url": "data:text/csv;base64,"
                + base64.b64encode(csv_text.encode()).decode(),
                "csv_name": f"pins-{series.slug}-{timezone.now():%Y%m%d-%H%M%S}.csv",
            }
            template = "admin/access/accesspin/issued.html"
        else:
            context["title"] = "Issue PINs"
            template = "admin/access/accesspin/issue.html"
        response = TemplateResponse(request, template, context)
        add_never_cache_headers(response)
        return response


class EntitlementForm(forms.ModelForm):
    class Meta:
        model = Entitlement
        fields = ["user", "series", "whole_series", "lessons", "expires_at", "note"]

    def clean(self):
        data = super().clean()
        series, lessons = data.get("series") or self.instance_series(), data.get("lessons")
        if not data.get("whole_series") and not lessons:
            self.add_error("lessons", "Choose the lessons, or tick “whole series”.")
        if series and lessons and any(lesson.series_id != series.pk for lesson in lessons):
            self.add_error("lessons", f"Choose lessons of {series} only.")
        return data

    def instance_series(self):
        return self.instance.series if self.instance.series_id else None


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    form = EntitlementForm
    list_display = [
        "user", "series", "scope", "source", "pin_hint", "granted_at", "expires_at", "status",
    ]  # fmt: skip
    list_filter = ["series", "source", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "series", "pin"]
    search_fields = ["user__email", "note", "pin__hint"]
    autocomplete_fields = ["user"]
    fields = [
        "user", "series", "whole_series", "lessons", "expires_at", "note", "source", "pin_hint",
        "granted_by",
        "granted_at", "revoked_at", "revoked_reason",
    ]  # fmt: skip
    readonly_fields = ["source", "pin_hint", "granted_by", "granted_at", "revoked_at"]
    filter_horizontal = ["lessons"]
    actions = ["revoke"]
    date_hierarchy = "granted_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lessons")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "user", "series"]

    @admin.display(description="lessons")
    def scope(self, entitlement):
        if entitlement.whole_series:
            return "all"
        numbers = sorted(lesson.number for lesson in entitlement.lessons.all())
        return ", ".join(map(str, numbers)) or "none left"

    @admin.display(description="PIN")
    def pin_hint(self, entitlement):
        return f"…{entitlement.pin.hint}" if entitlement.pin else "—"

    @admin.display(description="status")
    def status(self, entitlement):
        if entitlement.revoked_at:
            return "revoked"
        return "active" if entitlement.is_active() else "ended"

    @admin.action(description="Revoke selected entitlements")
    def revoke(self, request, queryset):
        count = services.revoke_entitlements(queryset, reason=f"Revoked by {request.user}")
        self.message_user(request, f"Revoked {count} entitlement(s).", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = Entitlement.Source.STAFF
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so "who had access when" stays answerable


@admin.register(RedemptionAttempt)
class RedemptionAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "outcome", "pin", "ip"]
    list_filter = ["outcome", ("pin__series", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "pin"]
    search_fields = ["user__email", "ip", "pin__hint", "pin__note", "pin__batch"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
