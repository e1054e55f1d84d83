"""A series' offer: what readers without access are shown to buy it, at what price, and how
they reach the seller; and the message a buyer gets with their PIN."""

from urllib.parse import quote, urlencode

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.offer.contacts import (
    normalise_instagram_handle,
    normalise_whatsapp_number,
    validate_instagram_handle,
    validate_whatsapp_number,
)
from access.offer.placeholders import (
    CURRENCIES,
    PRICE_PLACEHOLDER,
    validate_pin_message,
    validate_selling_text,
)
from lessons.models import CONTENT_LANGUAGES, Series
from lessons.validators import markdown_errors, validate_markdown


class Offer(models.Model):
    """One per series at most; a series without one shows the site's standard texts, no
    price and no contact buttons. Its Markdown texts are rendered once, when it is saved
    through `access.offer.services.save_offer` (the admin's series page and the importer
    do), into `cta_html` and `paywall_html`; their placeholders are filled in when a page
    shows them (access.offer)."""

    series = models.OneToOneField(
        Series, on_delete=models.CASCADE, related_name="offer", verbose_name=_("series")
    )
    cta_message = models.TextField(
        _("call to action"),
        blank=True,
        validators=[validate_markdown, validate_selling_text],
        help_text=_(
            "Markdown shown at the end of free lessons, on the series page above the locked "
            "lessons and on the home page, to readers who do not have the whole series: "
            "what the premium lessons give and how to get them. {price}, {first_premium}, "
            "{last_premium}, {premium_count} and {series} are filled in from the published "
            "lessons, so “lessons {first_premium}–{last_premium}” stays true when you add one."
        ),
    )
    cta_html = models.TextField(blank=True, editable=False)
    paywall_message = models.TextField(
        _("paywall message"),
        blank=True,
        validators=[validate_markdown, validate_selling_text],
        help_text=_(
            "Markdown shown under the teaser of a premium lesson to readers without access, "
            "with the same placeholders as the call to action. Empty: the call to action is "
            "shown there too."
        ),
    )
    paywall_html = models.TextField(blank=True, editable=False)
    price_amount = models.PositiveIntegerField(
        _("price"),
        null=True,
        blank=True,
        help_text=_(
            "What access to the premium lessons costs, as a whole number such as 149000: "
            "readers see Rp149.000 (Rp 149,000 in English), {price} in the texts is it, and "
            "the sales dashboard counts revenue with it. Leave it empty to show no price."
        ),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="IDR")
    price_line = models.CharField(
        _("price line"),
        max_length=120,
        blank=True,
        validators=[validate_selling_text],
        help_text=_(
            "Shown beside the buttons, such as “{price} · once, for lessons "
            "{first_premium}–{last_premium}”, with the call to action’s placeholders. Leave it "
            "empty to show the price alone."
        ),
    )
    takes_payments = models.BooleanField(
        _("payments on"),
        default=False,
        help_text=_(
            "Readers can also pay on the site (QRIS, e-wallets, bank transfer) beside the DM "
            "button, and get their PIN at once. Needs a price."
        ),
    )
    instagram_handle = models.CharField(
        _("Instagram username"),
        max_length=31,
        blank=True,
        validators=[validate_instagram_handle],
        help_text=_("Without @. The main button opens a direct message to this account."),
    )
    whatsapp_number = models.CharField(
        _("WhatsApp number"),
        max_length=32,
        blank=True,
        validators=[validate_whatsapp_number],
        help_text=_(
            "Optional second channel, in international form without +, such as 6281234567890."
        ),
    )
    sales_language = models.CharField(
        _("language of the selling texts"),
        max_length=16,
        choices=CONTENT_LANGUAGES,
        blank=True,
        help_text=_(
            "The language of the call to action, paywall message and PIN message, when it "
            "differs from the lessons’."
        ),
    )
    pin_message = models.TextField(
        _("PIN message"),
        blank=True,
        validators=[validate_pin_message],
        help_text=_(
            "The message prepared for a buyer when a PIN is issued for them, to paste into the "
            "DM. {pin} is replaced by the PIN, {link} by the page where it is redeemed, and the "
            "call to action’s placeholders ({series}, {price}…) as there. Empty: a standard "
            "message in the language of the selling texts."
        ),
    )

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")

    def __str__(self):
        return self.series.title

    def save(self, *args, **kwargs):
        self.instagram_handle = normalise_instagram_handle(self.instagram_handle)
        self.whatsapp_number = normalise_whatsapp_number(self.whatsapp_number)
        super().save(*args, **kwargs)

    @property
    def selling_language(self) -> str:
        return self.sales_language or self.series.language

    @property
    def instagram_url(self) -> str:
        """A link that opens a direct message to the seller in Instagram."""
        return f"https://ig.me/m/{quote(self.instagram_handle)}" if self.instagram_handle else ""

    @property
    def whatsapp_url(self) -> str:
        """A WhatsApp chat with the seller, with a first message naming the series ready to
        send, in the reader's language."""
        if not self.whatsapp_number:
            return ""
        text = gettext("Hi! I would like to buy access to “%(series)s”.") % {
            "series": self.series.title
        }
        return f"https://wa.me/{self.whatsapp_number}?{urlencode({'text': text})}"

    @property
    def has_contact(self) -> bool:
        return bool(self.instagram_handle or self.whatsapp_number)

    def clean(self):
        errors = markdown_errors(cta_message=self.cta_message, paywall_message=self.paywall_message)
        if self.price_amount is None:
            for name in ("cta_message", "paywall_message", "price_line", "pin_message"):
                if PRICE_PLACEHOLDER in getattr(self, name):
                    errors.setdefault(name, []).append(
                        gettext("Set the price to use %(placeholder)s.")
                        % {"placeholder": PRICE_PLACEHOLDER}
                    )
        if self.takes_payments and self.price_amount is None:
            errors.setdefault("takes_payments", []).append(
                gettext("Set the price to take payments on the site.")
            )
        if errors:
            raise ValidationError(errors)

    RENDERED_FIELDS = ("cta_html", "paywall_html")  # what render() writes

    def render(self) -> None:
        """Render the Markdown texts into stored HTML (RENDERED_FIELDS)."""
        from lessons.rendering.bounded import render_short_markdown  # loads Markdown

        self.cta_html = render_short_markdown(self.cta_message)
        self.paywall_html = render_short_markdown(self.paywall_message)
