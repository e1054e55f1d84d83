"""The offer is edited with its series: an inline on the series' admin page.

access/ adds it by registering the series' admin again, as a subclass of lessons' own with
the offer's inline in front of the lessons (Django's documented way to extend another app's
ModelAdmin, as one does for the User admin): lessons/admin.py knows nothing of it and needs
no hook. access/admin.py imports this module, so the admin's autodiscovery registers it after
lessons' (INSTALLED_APPS lists lessons first; the import below makes sure)."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from access.offer.models import Offer
from access.offer.services import save_offer
from lessons.admin import SeriesAdmin
from lessons.models import Series


class OfferFormSet(BaseInlineFormSet):
    """The series' one offer, saved through `save_offer` (rendered, then saved and the
    pages' stores told), in the admin's transaction with the series and its lessons."""

    def save_new(self, form, commit=True):
        offer = super().save_new(form, commit=False)
        if commit:
            save_offer(offer)
        return offer

    def save_existing(self, form, obj, commit=True):
        offer = form.save(commit=False)
        if commit:
            save_offer(offer)
        return offer


class OfferInline(admin.StackedInline):
    model = Offer
    formset = OfferFormSet
    extra = max_num = 1  # a series without an offer gets one when a field is filled in
    can_delete = False
    verbose_name = verbose_name_plural = _("Selling")
    fieldsets = [
        (
            None,
            {
                "description": _(
                    "What readers without access see, and how they reach you to buy a PIN."
                ),
                "fields": [
                    "cta_message",
                    "paywall_message",
                    "price_amount",  # in the offer's currency: rupiah, the only one so far
                    "price_line",
                    "takes_payments",
                    "instagram_handle",
                    "whatsapp_number",
                    "sales_language",
                    "pin_message",
                ],
            },
        ),
    ]


class SeriesWithOfferAdmin(SeriesAdmin):
    inlines = [OfferInline, *SeriesAdmin.inlines]


admin.site.unregister(Series)
admin.site.register(Series, SeriesWithOfferAdmin)
