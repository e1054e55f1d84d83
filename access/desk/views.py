"""The seller's desk: the pages staff sell from, in the admin's look, under its address and its
log-in (access/desk/urls.py), each declaring the permission it needs (config.permissions).

The hand-off (one PIN for a buyer, with the DM message), Issue PINs, replacing a lost PIN,
the sales dashboard, the batches with their CSV and revoking, the readers-with-access CSV,
and announcing a lesson by e-mail."""

import base64
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from access import announcements, dashboard, dashboard_extras, exports, handoff, services
from access.desk import once
from access.desk.forms import BatchRevokeForm, BuyerPinForm, DashboardForm, IssuePinsForm
from access.desk.history import issued_message, log, revoke_and_log, revoked_by
from access.models import AccessPin, Announcement, Entitlement
from access.querysets import pin_status_counts
from config import timezones
from config.permissions import requires
from lessons.models import Lesson, Series

NO_BATCH = "__none__"


def render(request, template, context, *, model=AccessPin, status=200):
    """A desk page in the admin's frame (its header, its side bar, breadcrumbs under
    `model`), never kept by a cache."""
    context = {**admin.site.each_context(request), "opts": model._meta, **context}
    response = TemplateResponse(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


@requires("access.view_dashboard")
def dashboard_view(request):
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
    return render(request, "admin/access/dashboard.html", context)


@requires("access.view_accesspin", "access.change_accesspin", any_of=True)
def batches_view(request):
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
        "can_revoke": request.user.has_perm("access.change_accesspin"),
        "no_batch": NO_BATCH,
    }
    return render(request, "admin/access/accesspin/batches.html", context)


@requires("access.view_accesspin", "access.change_accesspin", any_of=True)
def batch_csv_view(request):
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
def batch_revoke_view(request):
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
        reason = form.cleaned_data["reason"] or revoked_by(request)
        revoked, ended = revoke_and_log(request, pins, reason=reason, revoke_access=revoke_access)
        messages.success(
            request,
            gettext("Batch %(batch)s: revoked %(pins)s PIN(s) and ended %(ended)s entitlement(s).")
            % {"batch": batch or gettext("No batch"), "pins": revoked, "ended": ended},
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
    return render(request, "admin/access/accesspin/batch_revoke.html", context)


@requires("access.add_accesspin")
def issue_view(request):
    """Issue one PIN or a batch. The result page is the only time the PINs are shown."""
    initial = {"series": _last_series(request), **request.GET.dict()}
    form = IssuePinsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        issued = form.issue(issued_by=request.user)
        series = form.cleaned_data["series"]
        log(request, (item.record for item in issued), ADDITION, issued_message(issued))
        csv_text = services.pins_csv(issued)
        return render(
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
    return render(request, "admin/access/accesspin/issue.html", context)


@requires("access.add_accesspin")
def for_buyer_view(request):
    """One PIN for one buyer, then the hand-off page: the PIN to copy and a message
    ready to paste into their DM. The same form sent twice issues one PIN (once.py)."""
    last_used = _last_series(request)
    posted = once.posted(request)
    if earlier := once.sent_before(posted.token):
        return _sent(request, earlier)
    form = BuyerPinForm(
        request.POST or None, initial={"series": last_used.pk if last_used else None}
    )
    if request.method == "POST" and form.is_valid() and not posted.stale:

        def issue():
            issued = form.issue(issued_by=request.user)
            log(request, [issued.record], ADDITION, issued_message([issued]))
            return issued

        issued, earlier = once.issue_once(posted.token, issue)
        return _sent(request, earlier) if earlier else _handoff(request, issued)
    context = {
        "title": _("Issue a PIN for a buyer"),
        "form": form,
        "once": posted.for_form(),
        "stale": _stale(posted, buyer=request.POST.get("buyer", "")),
    }
    return render(request, "admin/access/accesspin/for_buyer.html", context)


@requires("access.add_accesspin", "access.change_accesspin")
def replace_view(request, pk):
    """A buyer lost their PIN: confirm, then revoke it (keeping what it unlocked) and
    issue a new one for the same buyer, once however often the form is sent."""
    pin = get_object_or_404(AccessPin.objects.select_related("series"), pk=pk)
    posted = once.posted(request)
    if earlier := once.sent_before(posted.token):
        return _sent(request, earlier)
    problem = ""
    if request.method == "POST" and not posted.stale:

        def replace():
            issued = services.replace_pin(pin=pin, issued_by=request.user)
            pin.refresh_from_db()
            replaced = gettext("Revoked: replaced by PIN …%(hint)s.")
            log(request, [pin], CHANGE, replaced % {"hint": issued.record.hint})
            replacing = gettext("Issued to replace PIN …%(hint)s.")
            log(request, [issued.record], ADDITION, replacing % {"hint": pin.hint})
            return issued

        try:
            issued, earlier = once.issue_once(posted.token, replace)
        except ValueError:
            problem = _(
                "This PIN unlocked only lessons that have since been deleted: there is "
                "nothing to replace. Issue a new PIN for the buyer instead."
            )
        else:
            return _sent(request, earlier) if earlier else _handoff(request, issued, pin)
    context = {
        "title": _("Replace a lost PIN"),
        "pin": pin,
        "original": pin,
        "problem": problem,
        "redeemers": [e.user for e in pin.entitlements.all()],
        "once": posted.for_form(),
        "stale": _stale(posted, buyer=pin.buyer),
    }
    status = 409 if problem else 200
    return render(request, "admin/access/accesspin/replace.html", context, status=status)


def _stale(posted, *, buyer: str) -> dict | None:
    """What the page says of a form too old to issue: its age, and the list of PINs found by
    the buyer, to check whether it issued one back then."""
    if not posted.stale:
        return None
    pins = reverse("admin:access_accesspin_changelist")
    return {"days": once.FORM_DAYS, "pins_url": f"{pins}?{urlencode({'q': buyer.strip()})}"}


def _sent(request, record):
    """The page for a form that issues a PIN sent a second time (a reload, a double tap):
    nothing more was issued, and `record`, the PIN the first post issued, is named. The PIN
    itself is kept nowhere, so it cannot be shown again."""
    context = {"title": _("This PIN was issued already"), "pin": record}
    return render(request, "admin/access/accesspin/sent_before.html", context, status=409)


def _handoff(request, issued, replaced=None):
    record = issued.record
    link = handoff.redeem_link(request.build_absolute_uri(reverse("access:redeem")), issued.pin)
    context = {
        "title": _("PIN for %(buyer)s") % {"buyer": record.buyer} if record.buyer else _("New PIN"),
        "issued": issued,
        "record": record,
        "series": record.series,
        "replaced": replaced,
        "message": handoff.message(series=record.series, pin=issued.pin, link=link),
        "buyer_dm_url": handoff.instagram_dm_url(record.buyer),
    }
    return render(request, "admin/access/accesspin/handoff.html", context)


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


@requires("access.view_entitlement", "access.change_entitlement", any_of=True)
def buyers_csv_view(request):
    """Readers with active access to a series, as CSV: email, since, until, how."""
    series_id = request.GET.get("series", "")
    series = get_object_or_404(Series, pk=int(series_id) if series_id.isdecimal() else 0)
    response = HttpResponse(exports.buyers_csv(series), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="readers-{series.slug}-{timezone.now():%Y%m%d-%H%M}.csv"'
    )
    add_never_cache_headers(response)
    return response


@requires("access.add_announcement")
def announce_view(request, lesson_pk):
    """Confirm, then queue the e-mails for a published lesson (never sent in this
    request: the worker sends them). Sent twice, it queues them once."""
    lesson = get_object_or_404(Lesson.objects.select_related("series"), pk=lesson_pk)
    problem = ""
    if not announcements.can_announce(lesson):
        problem = gettext("Only a published lesson that readers can already see is announced.")
    elif request.method == "POST":
        site = request.build_absolute_uri("/")
        announcement, queued = announcements.queue(
            lesson=lesson, site_url=site, created_by=request.user
        )
        if queued:
            _announced(request, announcement)
        else:
            messages.warning(
                request, gettext("This lesson was announced already: nothing more was queued.")
            )
        return redirect("admin:access_announcement_change", announcement.pk)
    elif Announcement.objects.filter(lesson=lesson).exists():
        problem = gettext("This lesson was announced already.")
    context = {
        "title": _("Announce by e-mail"),
        "lesson": lesson,
        "problem": problem,
        "count": 0 if problem else len(announcements.recipients(lesson)),
    }
    status = 409 if problem and request.method == "POST" else 200
    template = "admin/access/announcement/announce.html"
    return render(request, template, context, model=Announcement, status=status)


def _announced(request, announcement) -> None:
    count = announcement.deliveries.count()
    queued = gettext("Queued %(count)s e-mail(s).")
    log(request, [announcement], ADDITION, queued % {"count": count})
    messages.success(
        request,
        ngettext(
            "Queued %(count)s e-mail; it goes out in the next minutes.",
            "Queued %(count)s e-mails; they go out in the next minutes.",
            count,
        )
        % {"count": count},
    )
