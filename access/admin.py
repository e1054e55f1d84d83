import base64
import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from access import announcements, dashboard, dashboard_extras, exports, handoff, services
from access.forms import BatchRevokeForm, BuyerPinForm, DashboardForm, IssuePinsForm
from access.models import (
    AccessPin,
    Announcement,
    Delivery,
    Entitlement,
    RedemptionAttempt,
    pin_status_counts,
)
from access.offer import admin as offer_admin  # noqa: F401 (its inline on the series)
from config import timezones
from config.permissions import requires
from lessons.models import Lesson, Series


def log(request, objects, flag: int, message: str) -> None:
    """Record in the admin history (LogEntry) who did what to which objects: what the admin
    does by itself for its forms, done here for the seller's own pages and actions."""
    objects = list(objects)
    if objects:
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=objects, action_flag=flag, change_message=message
        )


NO_BATCH = "__none__"


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
        pins, _ended = _revoke_and_log(request, queryset, reason=_revoked_by(request))
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
        pins, ended = _revoke_and_log(
            request, queryset, reason=_revoked_by(request), revoke_access=True
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
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("dashboard/", view(self.dashboard_view), name="access_dashboard"),
            path("batches/", view(self.batches_view), name="access_accesspin_batches"),
            path("batches/csv/", view(self.batch_csv_view), name="access_accesspin_batch_csv"),
            path(
                "batches/revoke/",
                view(self.batch_revoke_view),
                name="access_accesspin_batch_revoke",
            ),
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

    @requires("access.view_dashboard")
    def dashboard_view(self, request):
        """Sales figures for a period and series: PINs, redemptions over time, attempts
        that failed or were throttled, sign-ups, and which teaser sells (access.dashboard)."""
        form = DashboardForm(request.GET or None, initial={"period": "week"})
        period = form.period_value()
        series = form.cleaned_data.get("series") if form.is_bound and form.is_valid() else None
        figures = dashboard.figures(period=period, series=series)
        context = {
            "title": _("Sales dashboard"),
            "form": form,
            "figures": figures,
            "cards": dashboard.headline_cards(figures.headline),
            "charts": dashboard.charts_for(figures),
            "several_series": len({funnel.series for funnel in figures.lessons}) > 1,
            "period": period,
            "before": period.previous(),
            "zone_name": timezones.name(),
            "series": series,
            "extra_sections": dashboard_extras.sections(),  # other apps' (payments')
        }
        return self._render(request, "admin/access/dashboard.html", context)

    @requires("access.view_accesspin", "access.change_accesspin", any_of=True)
    def batches_view(self, request):
        """Every batch label with what became of its PINs; PINs without one as "No batch"."""
        rows = list(
            AccessPin.objects.values("batch")
            .annotate(
                **pin_status_counts(),
                series_count=Count("series", distinct=True),
                series_title=Min("series__title"),
                first_issued=Min("created_at"),
                last_issued=Max("created_at"),
            )
            .order_by("-last_issued")
        )
        for row in rows:
            row["key"] = row["batch"]
            row["used"] = row["capacity"] and row["uses"] / row["capacity"]
        context = {
            "title": _("Batches"),
            "rows": rows,
            "can_revoke": self.has_change_permission(request),
            "no_batch": NO_BATCH,
        }
        return self._render(request, "admin/access/accesspin/batches.html", context)

    @requires("access.view_accesspin", "access.change_accesspin", any_of=True)
    def batch_csv_view(self, request):
        """A batch's PINs as they stand, as CSV: hints, never PINs."""
        batch = request.GET.get("batch")
        if batch is None or not batch.isprintable():
            return HttpResponseBadRequest(gettext("Choose a batch from the list of batches."))
        response = HttpResponse(
            exports.batch_csv(exports.batch_pins(batch)), content_type="text/csv; charset=utf-8"
        )
        name = slugify(batch) or "no-batch"
        response["Content-Disposition"] = (
            f'attachment; filename="batch-{name}-{timezone.now():%Y%m%d-%H%M}.csv"'
        )
        add_never_cache_headers(response)
        return response

    @requires("access.change_accesspin")
    def batch_revoke_view(self, request):
        """Revoke a whole batch, after a page saying how many PINs and entitlements that
        touches."""
        batch = request.GET.get("batch")
        if batch is None or not batch.isprintable():
            return HttpResponseBadRequest(gettext("Choose a batch from the list of batches."))
        if not batch:
            # PINs issued without a label belong to every single buyer: one by one, never all.
            return HttpResponseBadRequest(
                gettext(
                    "PINs without a batch are each a buyer’s own: revoke them one by one from "
                    "the list of PINs."
                )
            )
        pins = exports.batch_pins(batch)
        form = BatchRevokeForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            revoke_access = form.cleaned_data["revoke_access"]
            if revoke_access and not request.user.has_perm("access.change_entitlement"):
                raise PermissionDenied
            reason = form.cleaned_data["reason"] or _revoked_by(request)
            revoked, ended = _revoke_and_log(
                request, pins, reason=reason, revoke_access=revoke_access
            )
            self.message_user(
                request,
                gettext(
                    "Batch %(batch)s: revoked %(pins)s PIN(s) and ended %(ended)s entitlement(s)."
                )
                % {"batch": batch or gettext("No batch"), "pins": revoked, "ended": ended},
                messages.SUCCESS,
            )
            return redirect("admin:access_accesspin_batches")
        granted = Entitlement.objects.filter(pin__in=pins)
        context = {
            "title": _("Revoke a batch"),
            "batch": batch,
            "form": form,
            "counts": pins.status_counts(),
            "to_revoke": pins.filter(revoked_at__isnull=True).count(),
            "entitlements": granted.active().count(),
            "readers": granted.active().values("user").distinct().count(),
        }
        return self._render(request, "admin/access/accesspin/batch_revoke.html", context)

    @requires("access.add_accesspin")
    def issue_view(self, request):
        """Issue one PIN or a batch. The result page is the only time the PINs are shown."""
        initial = {"series": _last_series(request), **request.GET.dict()}
        form = IssuePinsForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            issued = form.issue(issued_by=request.user)
            series = form.cleaned_data["series"]
            log(request, (item.record for item in issued), ADDITION, _issued_message(issued))
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

    @requires("access.add_accesspin")
    def for_buyer_view(self, request):
        """One PIN for one buyer, then the hand-off page: the PIN to copy and a message
        ready to paste into their DM."""
        last_used = _last_series(request)
        if sent := self._sent_before(request):
            return sent
        form = BuyerPinForm(
            request.POST or None, initial={"series": last_used.pk if last_used else None}
        )
        if request.method == "POST" and form.is_valid():
            if not _claim(request):
                return self._sent(request, None)
            issued = form.issue(issued_by=request.user)
            log(request, [issued.record], ADDITION, _issued_message([issued]))
            return self._handoff(request, issued)
        context = {"title": _("Issue a PIN for a buyer"), "form": form, "once": _once(request)}
        return self._render(request, "admin/access/accesspin/for_buyer.html", context)

    @requires("access.add_accesspin", "access.change_accesspin")
    def replace_view(self, request, pk):
        """A buyer lost their PIN: confirm, then revoke it (keeping what it unlocked) and
        issue a new one for the same buyer."""
        pin = get_object_or_404(AccessPin.objects.select_related("series"), pk=pk)
        problem = ""
        if sent := self._sent_before(request):
            return sent
        if request.method == "POST":
            if not _claim(request):
                return self._sent(request, None)
            try:
                issued = services.replace_pin(pin=pin, issued_by=request.user)
            except ValueError:
                problem = _(
                    "This PIN unlocked only lessons that have since been deleted: there is "
                    "nothing to replace. Issue a new PIN for the buyer instead."
                )
            else:
                pin.refresh_from_db()
                replaced = gettext("Revoked: replaced by PIN …%(hint)s.")
                log(request, [pin], CHANGE, replaced % {"hint": issued.record.hint})
                replacing = gettext("Issued to replace PIN …%(hint)s.")
                log(request, [issued.record], ADDITION, replacing % {"hint": pin.hint})
                return self._handoff(request, issued, replaced=pin)
        context = {
            "title": _("Replace a lost PIN"),
            "pin": pin,
            "original": pin,
            "problem": problem,
            "redeemers": [e.user for e in pin.entitlements.all()],
            "once": _once(request),
        }
        status = 409 if problem else 200
        return self._render(request, "admin/access/accesspin/replace.html", context, status)

    def _sent_before(self, request):
        """The page for a form that issues a PIN posted a second time (a reload, a double
        tap): nothing more is issued, and the PIN the first post issued is named. The PIN
        itself is kept nowhere, so it cannot be shown again."""
        if request.method != "POST":
            return None
        sent = request.session.get(SENT_FORMS, {}).get(_posted_once(request))
        record = AccessPin.objects.select_related("series").filter(pk=sent).first()
        return self._sent(request, record) if record else None

    def _sent(self, request, record):
        """The form was sent already; `record` is the PIN it issued (None while the first
        post is still issuing it)."""
        context = {"title": _("This PIN was issued already"), "pin": record}
        return self._render(request, "admin/access/accesspin/sent_before.html", context, 409)

    def _handoff(self, request, issued, replaced=None):
        record = issued.record
        if once := _posted_once(request):
            recent = list(request.session.get(SENT_FORMS, {}).items())[-(SENT_FORMS_KEPT - 1) :]
            request.session[SENT_FORMS] = {**dict(recent), once: record.pk}
        link = handoff.redeem_link(request.build_absolute_uri(reverse("access:redeem")), issued.pin)
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


# Forms that issue a PIN carry a random token of their own; the session remembers the last
# few it has seen and the PIN each issued, so that posting one again issues nothing.
SENT_FORMS = "access:sent-forms"
SENT_FORMS_KEPT = 20


def _posted_once(request) -> str | None:
    posted = request.POST.get("once", "")
    return posted if 16 <= len(posted) <= 64 else None


def _claim(request) -> bool:
    """Whether this post is the first of its form to issue a PIN: the token is claimed in the
    shared cache, so two posts at the same moment (a double tap) cannot both issue one. A form
    without a token, and any form while the cache is away, may issue."""
    once = _posted_once(request)
    return once is None or cache.add(f"{SENT_FORMS}:{once}", request.user.pk, 24 * 60 * 60)


def _once(request) -> str:
    """The token for a form that issues a PIN (the one posted, when it is shown again)."""
    return _posted_once(request) or secrets.token_urlsafe(16)


def _last_series(request) -> Series | None:
    """The series the seller issued a PIN for last (else the first series): what the forms
    that issue PINs preselect."""
    last = (
        AccessPin.objects.filter(issued_by=request.user)
        .order_by("-created_at", "-pk")
        .values_list("series", flat=True)[:1]
    )
    return (
        Series.objects.filter(pk__in=last).first()
        or Series.objects.order_by("position", "title").first()
    )


def _revoked_by(request) -> str:
    return gettext("Revoked by %(user)s") % {"user": request.user}


def _issued_message(issued) -> str:
    record = issued[0].record
    details = [gettext("Issued for %(series)s") % {"series": record.series}]
    if record.buyer:
        details.append(gettext("buyer %(buyer)s") % {"buyer": record.buyer})
    if record.batch:
        details.append(gettext("batch %(batch)s") % {"batch": record.batch})
    return ", ".join(details) + "."


def _revoke_and_log(request, pins, *, reason: str, revoke_access: bool = False):
    """Revoke PINs (and with `revoke_access` what they granted), and write each change into
    the admin history."""
    pin_list = list(pins.filter(revoked_at__isnull=True))
    ended = []
    if revoke_access:
        ended = list(
            Entitlement.objects.filter(pin__in=pins, revoked_at__isnull=True).select_related(
                "user", "series"
            )
        )
    counts = services.revoke_pins(pins, reason=reason, revoke_access=revoke_access)
    log(request, pin_list, CHANGE, gettext("Revoked (%(reason)s).") % {"reason": reason})
    ending = gettext("Access ended with its PIN (%(reason)s).")
    log(request, ended, CHANGE, ending % {"reason": reason})
    return counts


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
        reason = _revoked_by(request)
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
        buyers = self.admin_site.admin_view(self.buyers_csv_view)
        return [
            path("buyers.csv", buyers, name="access_entitlement_buyers_csv"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "all_series": Series.objects.all()}
        return super().changelist_view(request, extra_context)

    @requires("access.view_entitlement", "access.change_entitlement", any_of=True)
    def buyers_csv_view(self, request):
        """Readers with active access to a series, as CSV: email, since, until, how."""
        series_id = request.GET.get("series", "")
        series = get_object_or_404(Series, pk=int(series_id) if series_id.isdecimal() else 0)
        response = HttpResponse(exports.buyers_csv(series), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="readers-{series.slug}-{timezone.now():%Y%m%d-%H%M}.csv"'
        )
        add_never_cache_headers(response)
        return response


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
        announce = self.admin_site.admin_view(self.announce_view)
        return [
            path("announce/<int:lesson_pk>/", announce, name="access_announcement_announce"),
            *super().get_urls(),
        ]

    @requires("access.add_announcement")
    def announce_view(self, request, lesson_pk):
        """Confirm, then queue the e-mails for a published lesson (never sent in this
        request: the worker sends them)."""
        lesson = get_object_or_404(Lesson.objects.select_related("series"), pk=lesson_pk)
        problem = ""
        if not Lesson.objects.published().filter(pk=lesson.pk).exists():
            problem = gettext("Only a published lesson that readers can already see is announced.")
        elif Announcement.objects.filter(lesson=lesson).exists():
            problem = gettext("This lesson was announced already.")
        if request.method == "POST" and not problem:
            site = request.build_absolute_uri("/")
            announcement = announcements.queue(
                lesson=lesson, site_url=site, created_by=request.user
            )
            count = announcement.deliveries.count()
            queued = gettext("Queued %(count)s e-mail(s).")
            log(request, [announcement], ADDITION, queued % {"count": count})
            self.message_user(
                request,
                ngettext(
                    "Queued %(count)s e-mail; it goes out in the next minutes.",
                    "Queued %(count)s e-mails; they go out in the next minutes.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
            return redirect("admin:access_announcement_change", announcement.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Announce by e-mail"),
            "lesson": lesson,
            "problem": problem,
            "count": 0 if problem else len(announcements.recipients(lesson)),
        }
        status = 409 if problem and request.method == "POST" else 200
        template = "admin/access/announcement/announce.html"
        response = TemplateResponse(request, template, context, status=status)
        add_never_cache_headers(response)
        return response
