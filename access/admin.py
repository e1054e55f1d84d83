import base64

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from access import handoff, services
from access.forms import BuyerPinForm, IssuePinsForm
from access.models import AccessPin, Entitlement, RedemptionAttempt
from lessons.models import Lesson, Series


class PinStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AccessPin.Status.choices

    def queryset(self, request, queryset):
        return queryset.with_status(self.value()) if self.value() else queryset


@admin.register(AccessPin)
class AccessPinAdmin(admin.ModelAdmin):
    list_display = [
        "masked", "buyer", "series", "status_display", "uses_left_display", "redeemed_by",
        "expires_at", "batch", "created_at",
    ]  # fmt: skip
    list_filter = [PinStatusFilter, "series", "batch"]
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

    @admin.action(description=_("Revoke selected PINs (readers keep what they unlocked)"))
    def revoke(self, request, queryset):
        pins, _ended = services.revoke_pins(queryset, reason=_revoked_by(request))
        self.message_user(
            request,
            ngettext("Revoked %(count)s PIN.", "Revoked %(count)s PINs.", pins) % {"count": pins},
            messages.SUCCESS,
        )

    @admin.action(description=_("Revoke selected PINs and the access they granted"))
    def revoke_with_access(self, request, queryset):
        pins, ended = services.revoke_pins(
            queryset, reason=_revoked_by(request), revoke_access=True
        )
        self.message_user(
            request,
            gettext("Revoked %(pins)s PIN(s) and %(ended)s entitlement(s).")
            % {"pins": pins, "ended": ended},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the log keeps pointing at the PIN

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("issue/", view(self.issue_view), name="access_accesspin_issue"),
            path("for-buyer/", view(self.for_buyer_view), name="access_accesspin_for_buyer"),
            path("<int:pk>/replace/", view(self.replace_view), name="access_accesspin_replace"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:access_accesspin_for_buyer")

    def _render(self, request, template, context, status=200):
        context = {**self.admin_site.each_context(request), "opts": self.opts, **context}
        response = TemplateResponse(request, template, context, status=status)
        add_never_cache_headers(response)
        return response

    def issue_view(self, request):
        """Issue one PIN or a batch. The result page is the only time the PINs are shown."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssuePinsForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            issued = form.issue(issued_by=request.user)
            series = form.cleaned_data["series"]
            csv_text = services.pins_csv(issued)
            return self._render(
                request,
                "admin/access/accesspin/issued.html",
                {
                    "title": ngettext("%(count)s PIN issued", "%(count)s PINs issued", len(issued))
                    % {"count": len(issued)},
                    "issued": issued,
                    "series": series,
                    "csv_data_url": "data:text/csv;base64,"
                    + base64.b64encode(csv_text.encode()).decode(),
                    "csv_name": f"pins-{series.slug}-{timezone.now():%Y%m%d-%H%M%S}.csv",
                },
            )
        context = {"title": _("Issue PINs"), "form": form}
        return self._render(request, "admin/access/accesspin/issue.html", context)

    def for_buyer_view(self, request):
        """One PIN for one buyer, then the hand-off page: the PIN to copy and a message
        ready to paste into their DM."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        last_used = (
            AccessPin.objects.filter(issued_by=request.user)
            .order_by("-created_at", "-pk")
            .values_list("series", flat=True)
            .first()
        ) or Series.objects.values_list("pk", flat=True).first()
        form = BuyerPinForm(request.POST or None, initial={"series": last_used})
        if request.method == "POST" and form.is_valid():
            return self._handoff(request, form.issue(issued_by=request.user))
        context = {"title": _("Issue a PIN for a buyer"), "form": form}
        return self._render(request, "admin/access/accesspin/for_buyer.html", context)

    def replace_view(self, request, pk):
        """A buyer lost their PIN: confirm, then revoke it (keeping what it unlocked) and
        issue a new one for the same buyer."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        pin = get_object_or_404(AccessPin.objects.select_related("series"), pk=pk)
        problem = ""
        if request.method == "POST":
            try:
                issued = services.replace_pin(pin=pin, issued_by=request.user)
            except ValueError:
                problem = _(
                    "This PIN unlocked only lessons that have since been deleted: there is "
                    "nothing to replace. Issue a new PIN for the buyer instead."
                )
            else:
                return self._handoff(request, issued, replaced=pin)
        context = {
            "title": _("Replace a lost PIN"),
            "pin": pin,
            "original": pin,
            "problem": problem,
            "redeemers": [e.user for e in pin.entitlements.all()],
        }
        status = 409 if problem else 200
        return self._render(request, "admin/access/accesspin/replace.html", context, status)

    def _handoff(self, request, issued, replaced=None):
        record = issued.record
        link = request.build_absolute_uri(reverse("access:redeem"))
        context = {
            "title": _("PIN for %(buyer)s") % {"buyer": record.buyer}
            if record.buyer
            else _("New PIN"),
            "issued": issued,
            "record": record,
            "series": record.series,
            "replaced": replaced,
            "message": handoff.message(series=record.series, pin=issued.pin, link=link),
            "buyer_dm_url": handoff.instagram_dm_url(record.buyer),
        }
        return self._render(request, "admin/access/accesspin/handoff.html", context)


def _revoked_by(request) -> str:
    return gettext("Revoked by %(user)s") % {"user": request.user}


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

    @admin.action(description=_("Revoke selected entitlements"))
    def revoke(self, request, queryset):
        count = services.revoke_entitlements(queryset, reason=_revoked_by(request))
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
