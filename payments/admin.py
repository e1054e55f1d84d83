"""The seller's side of payments: every order (searchable by e-mail, order id, PIN hint and
status), what the gateway said of it, and a refund through the gateway."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from payments import gateways, offers, services
from payments.models import Notification, Order


class NotificationInline(admin.TabularInline):
    model = Notification
    fields = ["received_at", "outcome", "transaction_status", "verified", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-received_at", "-pk"]

    def has_add_permission(self, request, obj=None):
        return False


class FlaggedFilter(admin.SimpleListFilter):
    title = _("needs a look")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        match self.value():
            case "yes":
                return queryset.exclude(flag="")
            case "no":
                return queryset.filter(flag="")
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_id", "status", "buyer", "series", "price", "pin_hint", "payment_type",
        "created_at", "paid_at", "needs_a_look",
    ]  # fmt: skip
    list_filter = ["status", FlaggedFilter, "series", "payment_type", "created_at"]
    search_fields = ["order_id", "email", "user__email", "pin_hint", "gateway_reference"]
    list_select_related = ["series", "user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "order_id", "status", "flag", "buyer", "email", "series", "lesson", "price",
        "pin_hint", "gateway", "gateway_reference", "payment_type", "language",
        "created_at", "expires_at", "paid_at", "updated_at",
    ]  # fmt: skip
    fields = readonly_fields
    inlines = [NotificationInline]
    actions = ["ask_gateway", "refund"]

    @admin.display(description=_("reader"), ordering="email")
    def buyer(self, order):
        return (
            order.user.email
            if order.user_id
            else format_html("{} <small>({})</small>", order.email, gettext("not logged in"))
        )

    @admin.display(description=_("amount"), ordering="amount")
    def price(self, order):
        return offers.format_price(order.amount, order.currency)

    @admin.display(description=_("needs a look"), boolean=True)
    def needs_a_look(self, order):
        return bool(order.flag)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.refund_order")

    @admin.action(description=_("Ask the gateway about these orders again"), permissions=["view"])
    def ask_gateway(self, request, queryset):
        asked, failed = 0, 0
        for order in queryset.filter(status=Order.Status.PENDING):
            try:
                services.refresh(order)
                asked += 1
            except gateways.GatewayError:
                failed += 1
        self.message_user(request, ngettext(
            "Asked the gateway about %(n)d pending order.",
            "Asked the gateway about %(n)d pending orders.", asked,
        ) % {"n": asked}, messages.SUCCESS)  # fmt: skip
        if failed:
            self.message_user(
                request,
                gettext("The gateway did not answer for %(n)d; try again later.") % {"n": failed},
                messages.ERROR,
            )

    @admin.action(description=_("Refund through the gateway…"), permissions=["refund"])
    def refund(self, request, queryset):
        """A page that says what is refunded, then the refund: the gateway's notification
        about it ends the access (PAYMENTS_REVOKE_ON_REFUND)."""
        paid = list(queryset.filter(status=Order.Status.PAID).select_related("series", "user"))
        if not paid:
            self.message_user(request, gettext("Only paid orders can be refunded."), messages.ERROR)
            return None
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(request, "admin/payments/order/refund.html", {
                **self.admin_site.each_context(request),
                "title": gettext("Refund orders"),
                "orders": paid,
                "opts": self.model._meta,
                "action": "refund",
                "revoke": settings.PAYMENTS_REVOKE_ON_REFUND,
            })  # fmt: skip
        done = []
        for order in paid:
            try:
                services.refund(order, reason=gettext("Refunded by the seller"))
                done.append(order)
            except gateways.GatewayError as error:
                self.message_user(
                    request,
                    gettext("%(order)s was not refunded: %(error)s")
                    % {"order": order, "error": error},
                    messages.ERROR,
                )
        if done:
            LogEntry.objects.log_actions(
                user_id=request.user.pk, queryset=done, action_flag=CHANGE,
                change_message=gettext("Refunded through the gateway"),
            )  # fmt: skip
            self.message_user(request, ngettext(
                "Refunded %(n)d order.", "Refunded %(n)d orders.", len(done)
            ) % {"n": len(done)})  # fmt: skip
        return None


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sent_order_id", "outcome", "verified", "transaction_status"]
    list_filter = ["outcome", "verified", "received_at"]
    search_fields = ["sent_order_id"]
    list_select_related = ["order"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at", "order", "sent_order_id", "transaction_status", "verified", "outcome",
        "detail", "body",
    ]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
