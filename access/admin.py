"""The admin's pages for access's models: the PIN list and its actions, entitlements, the
redemption log, announcements. The seller's own pages (the hand-off, Issue PINs, batches,
the dashboard, exports, announcing) are the desk's (access/desk/), mounted here under each
model's address."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from access import services
from access.desk import urls as desk_urls
from access.desk.history import log, revoke_and_log, revoked_by
from access.desk.views import NO_BATCH
from access.models import AccessPin, Announcement, Delivery, Entitlement, RedemptionAttempt
from access.offer import admin as offer_admin  # noqa: F401 (its inline on the series)
from config import timezones
from lessons.models import Lesson, Series


class TimesInTheSiteZone:
    """Date-and-time fields say which zone their times are in (TIME_ZONE, config.timezones)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(db_field, models.DateTimeField):
            field.help_text = timezones.with_zone(field.help_text)
        return field


class BatchFilter(admin.SimpleListFilter):
    """PINs by batch label, with those issued without one under "No batch"."""

    title = _("batch")
    parameter_name = "batch"

    def lookups(self, request, model_admin):
        labels = (
            AccessPin.objects.exclude(batch="")
            .order_by("batch")
            .values_list("batch", flat=True)
            .distinct()
        )
        return [(NO_BATCH, _("No batch")), *((label, label) for label in labels)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(batch="" if value == NO_BATCH else value)


class PinStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AccessPin.Status.choices

    def queryset(self, request, queryset):
        """An unknown status in the address (a stale or hand-edited link) filters nothing."""
        if self.value() in AccessPin.Status.values:
            return queryset.with_status(self.value())
        return queryset


@admin.register(AccessPin)
class AccessPinAdmin(TimesInTheSiteZone, admin.ModelAdmin):
    # What a seller looks for first, on a phone too: the state, who it is for, who used it.
    list_display = [
        "masked", "status_display", "buyer", "redeemed_by", "series", "uses_left_display",
        "expires_at", "batch_display", "created_at",
    ]  # fmt: skip
    list_filter = [PinStatusFilter, "series", BatchFilter]
    list_select_related = ["series"]
    search_fields = ["buyer", "entitlements__user__email", "hint", "note", "batch"]
    search_help_text = _(
        "Search by buyer (Instagram handle or email), the email of who redeemed it, the PIN’s "
        "last four characters, note or batch."
    )
    readonly_fields = [
        "masked", "series", "lessons_display", "max_uses", "use_count", "access_days",
        "revoked_at", "revoked_reason", "issued_by", "created_at", "redemptions",
    ]  # fmt: skip
    fields = [
        "masked", "buyer", "series", "lessons_display", "max_uses", "use_count", "expires_at",
        "access_days", "note", "batch", "revoked_at", "revoked_reason", "issued_by",
        "created_at", "redemptions",
    ]  # fmt: skip
    actions = ["revoke", "revoke_with_access"]
    date_hierarchy = "created_at"
    RECENT_ATTEMPTS = 50

    def get_queryset(self, request):
        redeemers = Entitlement.objects.select_related("user").only("pin_id", "user__email")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("entitlements", queryset=redeemers))
        )

    def get_search_results(self, request, queryset, search_term):
        # "@budi" finds the PIN whether the buyer was written "@budi" or "budi".
        return super().get_search_results(
            request, queryset, " ".join(t.lstrip("@") for t in search_term.split())
        )

    @admin.display(description=_("PIN"), ordering="hint")
    def masked(self, pin):
        return f"••••-••••-{pin.hint}"

    @admin.display(description=_("batch"), ordering="batch")
    def batch_display(self, pin):
        return pin.batch or _("No batch")

    @admin.display(description=_("uses left"))
    def uses_left_display(self, pin):
        return _("%(left)s of %(uses)s") % {"left": pin.uses_left, "uses": pin.max_uses}

    @admin.display(description=_("status"))
    def status_display(self, pin):
        return pin.status().label

    @admin.display(description=_("redeemed by"))
    def redeemed_by(self, pin):
        return ", ".join(e.user.email for e in pin.entitlements.all()) or "—"

    @admin.display(description=_("lessons"))
    def lessons_display(self, pin):
        return pin.scope_label

    @admin.display(description=_("redemptions and attempts"))
    def redemptions(self, pin):
        attempts = pin.attempts.select_related("user")[: self.RECENT_ATTEMPTS]
        log = reverse("admin:access_redemptionattempt_changelist") + f"?pin__id__exact={pin.pk}"
        return format_html(
            "{}<p><a href='{}'>{}</a></p>",
            format_html_join(
                "",
                "<div>{} · {} · {} · {}</div>",
                (
                    (
                        date_format(localtime(a.created_at), "SHORT_DATETIME_FORMAT"),
                        a.user or _("deleted user"),
                        a.get_outcome_display(),
                        a.ip or _("no IP"),
                    )
                    for a in attempts
                ),
            )
            or _("None yet."),
            log,
            _("All attempts with this PIN (%(count)s)") % {"count": pin.attempts.count()},
        )

    @admin.action(
        description=_("Revoke selected PINs (readers keep what they unlocked)"),
        permissions=["change"],
    )
    def revoke(self, request, queryset):
        pins, _ended = revoke_and_log(request, queryset, reason=revoked_by(request))
        self.message_user(
            request,
            ngettext("Revoked %(count)s PIN.", "Revoked %(count)s PINs.", pins) % {"count": pins},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Revoke selected PINs and the access they granted"),
        permissions=["change", "end_access"],
    )
    def revoke_with_access(self, request, queryset):
        pins, ended = revoke_and_log(
            request, queryset, reason=revoked_by(request), revoke_access=True
        )
        self.message_user(
            request,
            gettext("Revoked %(pins)s PIN(s) and %(ended)s entitlement(s).")
            % {"pins": pins, "ended": ended},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the log keeps pointing at the PIN

    def has_end_access_permission(self, request):
        """Ending the access a PIN gave changes readers' entitlements."""
        return request.user.has_perm("access.change_entitlement")

    def get_urls(self):
        return [*desk_urls.patterns_for(self), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:access_accesspin_for_buyer")


class SeriesLessonField(forms.ModelMultipleChoiceField):
    """Lessons named with their series ("Became an AI Engineer · 3. Prompting"), in order."""

    def label_from_instance(self, lesson):
        return f"{lesson.series.title} · {lesson}"


class EntitlementForm(forms.ModelForm):
    lessons = SeriesLessonField(
        label=_("lessons"),
        queryset=Lesson.objects.select_related("series").order_by(
            "series__position", "series__title", "number"
        ),
        required=False,
        widget=FilteredSelectMultiple(_("lessons"), is_stacked=False),
        help_text=_("Only when “whole series” is unticked: lessons of the series chosen above."),
    )

    class Meta:
        model = Entitlement
        fields = ["user", "series", "whole_series", "lessons", "expires_at", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.series_id:
            field = self.fields["lessons"]
            field.queryset = field.queryset.filter(series=self.instance.series_id)

    def clean(self):
        data = super().clean()
        series, lessons = data.get("series") or self.instance_series(), data.get("lessons")
        if not data.get("whole_series") and not lessons:
            self.add_error("lessons", _("Choose the lessons, or tick “whole series”."))
        if series and lessons and any(lesson.series_id != series.pk for lesson in lessons):
            self.add_error(
                "lessons", gettext("Choose lessons of %(series)s only.") % {"series": series}
            )
        return data

    def instance_series(self):
        return self.instance.series if self.instance.series_id else None


@admin.register(Entitlement)
class EntitlementAdmin(TimesInTheSiteZone, admin.ModelAdmin):
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
    actions = ["revoke"]
    date_hierarchy = "granted_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lessons")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "user", "series"]

    @admin.display(description=_("lessons"))
    def scope(self, entitlement):
        return entitlement.scope_label

    @admin.display(description=_("PIN"))
    def pin_hint(self, entitlement):
        return f"…{entitlement.pin.hint}" if entitlement.pin else "—"

    @admin.display(description=_("status"))
    def status(self, entitlement):
        if entitlement.revoked_at:
            return _("revoked")
        return _("active") if entitlement.is_active() else _("ended")

    @admin.action(description=_("Revoke selected entitlements"), permissions=["change"])
    def revoke(self, request, queryset):
        reason = revoked_by(request)
        ending = list(queryset.filter(revoked_at__isnull=True).select_related("user", "series"))
        count = services.revoke_entitlements(queryset, reason=reason)
        log(request, ending, CHANGE, gettext("Revoked (%(reason)s).") % {"reason": reason})
        self.message_user(
            request,
            ngettext("Revoked %(count)s entitlement.", "Revoked %(count)s entitlements.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = Entitlement.Source.STAFF
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so "who had access when" stays answerable

    def get_urls(self):
        return [*desk_urls.patterns_for(self), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "all_series": Series.objects.all()}
        return super().changelist_view(request, extra_context)


class TextFilter(admin.SimpleListFilter):
    """A filter the seller types into (an e-mail address, a PIN's last four characters, an
    IP address), in the admin's filter panel."""

    template = "admin/text_filter.html"
    lookup = ""

    def lookups(self, request, model_admin):
        return [("", "")]  # the panel shows filters that have choices

    def has_output(self):
        return True

    def choices(self, changelist):
        others = {k: v for k, v in changelist.filter_params.items() if k != self.parameter_name}
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "hidden": [(key, value) for key, values in others.items() for value in values],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def clean(self, value: str) -> str:
        """What was typed, without spaces around it or control characters (which no e-mail
        address, PIN or IP address holds, and which PostgreSQL refuses in a query)."""
        return "".join(c for c in value if c.isprintable()).strip()

    def queryset(self, request, queryset):
        value = self.clean(self.value() or "")
        return queryset.filter(**{self.lookup: value}) if value else queryset


class ReaderFilter(TextFilter):
    title = _("reader (e-mail contains)")
    parameter_name = "reader"
    lookup = "user__email__icontains"


class HintFilter(TextFilter):
    title = _("PIN (last four characters)")
    parameter_name = "hint"
    lookup = "pin__hint"

    def clean(self, value):
        return super().clean(value).upper().replace("-", "")[-4:]


class IpFilter(TextFilter):
    title = _("client IP (starts with)")
    parameter_name = "ip"
    lookup = "ip__startswith"


@admin.register(RedemptionAttempt)
class RedemptionAttemptAdmin(admin.ModelAdmin):
    """The redemption log: filter by reader, PIN hint, outcome, IP and time."""

    list_display = ["created_at", "user", "outcome", "pin", "ip", "lesson"]
    list_filter = [
        ReaderFilter,
        HintFilter,
        "outcome",
        IpFilter,
        ("created_at", admin.DateFieldListFilter),
        ("pin__series", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["user", "pin", "lesson"]
    search_fields = ["user__email", "ip", "pin__hint", "pin__note", "pin__batch"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """New-lesson e-mails: queued from a published lesson's page ("Announce by e-mail"),
    sent by the worker (access/announcements.py)."""

    list_display = ["lesson", "created_at", "created_by", "progress"]
    list_select_related = ["lesson", "created_by"]
    readonly_fields = ["lesson", "site_url", "created_by", "created_at", "progress"]
    fields = readonly_fields

    def get_queryset(self, request):
        counts = {
            status: Count("deliveries", filter=Q(deliveries__status=status))
            for status in Delivery.Status.values
        }
        return super().get_queryset(request).annotate(**counts)

    @admin.display(description=_("e-mails"))
    def progress(self, announcement):
        return _("%(sent)s sent, %(queued)s queued, %(skipped)s skipped, %(failed)s failed") % {
            status.replace(" ", "_"): getattr(announcement, status, 0)
            for status in Delivery.Status.values
        }

    def has_add_permission(self, request):
        return False  # from a lesson's page, which says how many readers it reaches

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [*desk_urls.patterns_for(self), *super().get_urls()]
