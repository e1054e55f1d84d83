"""The seller's desk's forms: issuing PINs (one for a buyer, or a batch with every option),
the dashboard's period, and revoking a batch."""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access import services
from access.dashboard import Period
from access.models import AccessPin
from lessons.models import Series

MAX_LESSON_NUMBER = 10_000


def parse_lesson_numbers(text: str) -> list[int]:
    """ "2,3, 5-7" → [2, 3, 5, 6, 7]."""
    numbers: set[int] = set()
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        low, dash, high = part.partition("-")
        if not (low.isascii() and low.isdecimal()) or (
            dash and not (high.isascii() and high.isdecimal())
        ):
            raise ValidationError(
                _("“%(part)s” is not a lesson number or a range such as 2-4.") % {"part": part}
            )
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise ValidationError(
                _("“%(part)s” runs backwards; write it as %(last)s-%(first)s.")
                % {"part": part, "first": first, "last": last}
            )
        if first < 1 or last > MAX_LESSON_NUMBER:
            raise ValidationError(
                _("Lesson numbers go from 1 to %(max)s.") % {"max": MAX_LESSON_NUMBER}
            )
        numbers.update(range(first, last + 1))
    return sorted(numbers)


def _max_length(name: str) -> int:
    return AccessPin._meta.get_field(name).max_length


class IssuePinsForm(forms.Form):
    """One PIN or a batch, with every option: the admin's "Issue PINs" page and the
    `issue_pins` command validate through it."""

    MAX_COUNT = 10_000

    series = forms.ModelChoiceField(
        label=_("Series"), queryset=Series.objects.all(), to_field_name="slug"
    )
    lesson_numbers = forms.CharField(
        label=_("Only these lessons"),
        required=False,
        help_text=_(
            "Lesson numbers such as 2,3 or 2-4. Empty: every premium lesson of the series."
        ),
    )
    count = forms.IntegerField(
        label=_("How many PINs"), min_value=1, max_value=MAX_COUNT, initial=1
    )
    max_uses = forms.IntegerField(
        label=_("Uses per PIN"), min_value=1, max_value=1_000_000, initial=1,
        help_text=_("1 for a single buyer; more for a promotion shared by several readers."),
    )  # fmt: skip
    expires_days = forms.IntegerField(
        label=_("PIN expires after (days)"), min_value=1, max_value=3650, required=False,
        help_text=_("Empty: the PIN never expires."),
    )  # fmt: skip
    access_days = forms.IntegerField(
        label=_("Access lasts (days)"), min_value=1, max_value=3650, required=False,
        help_text=_("Counted from redemption. Empty: access has no end."),
    )  # fmt: skip
    buyer = forms.CharField(
        label=_("Buyer"), max_length=_max_length("buyer"), required=False,
        help_text=_("Instagram handle, email address or a note, to find the PIN again."),
    )  # fmt: skip
    note = forms.CharField(
        label=_("Note"), max_length=_max_length("note"), required=False,
        help_text=_("For staff."),
    )  # fmt: skip
    batch = forms.CharField(
        label=_("Batch label"), max_length=_max_length("batch"), required=False,
        help_text=_("Such as “black-friday-2026”."),
    )  # fmt: skip

    def issue(self, issued_by=None) -> list[services.IssuedPin]:
        """Issue the PINs this valid form describes."""
        data = self.cleaned_data
        days = data["expires_days"]
        return services.issue_pins(
            series=data["series"],
            lessons=data["lessons"],
            count=data["count"],
            max_uses=data["max_uses"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            access_days=data["access_days"],
            buyer=data["buyer"],
            note=data["note"],
            batch=data["batch"],
            issued_by=issued_by,
        )

    def clean(self):
        data = super().clean()
        series = data.get("series")
        if series is None:
            return data
        try:
            numbers = parse_lesson_numbers(data.get("lesson_numbers", ""))
        except ValidationError as error:
            self.add_error("lesson_numbers", error)
            return data
        data["lessons"] = list(series.lessons.numbered(numbers))
        missing = sorted(set(numbers) - {lesson.number for lesson in data["lessons"]})
        if missing:
            self.add_error(
                "lesson_numbers",
                _("%(series)s has no lesson numbered %(numbers)s.")
                % {"series": series, "numbers": ", ".join(map(str, missing))},
            )
        return data


class BuyerPinForm(forms.Form):
    """One PIN for one buyer, in as few taps as possible: the series (preselected) and who
    it is for. It unlocks the whole series, once, with no expiry."""

    series = forms.ModelChoiceField(
        label=_("Series"), queryset=Series.objects.all(), empty_label=None
    )
    buyer = forms.CharField(
        label=_("Buyer"),
        max_length=_max_length("buyer"),
        help_text=_("Their Instagram handle (such as @budi.dev), email address or a note."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def issue(self, issued_by=None) -> services.IssuedPin:
        data = self.cleaned_data
        return services.issue_pins(
            series=data["series"], buyer=data["buyer"].strip(), issued_by=issued_by
        )[0]


class DashboardForm(forms.Form):
    """The dashboard's period and series (a GET form: its address can be bookmarked)."""

    PERIODS = [
        ("week", _("This week")),
        ("7", _("Last 7 days")),
        ("30", _("Last 30 days")),
        ("90", _("Last 90 days")),
        ("365", _("Last 12 months")),
        ("custom", _("From … to …")),
    ]
    LONGEST_DAYS = 3 * 366

    # Dates a sale can have happened on; beyond them a period's arithmetic would overflow.
    DATES = [MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2999, 12, 31))]

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(
        label=_("From"),
        required=False,
        validators=DATES,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        validators=DATES,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    series = forms.ModelChoiceField(
        label=_("Series"), queryset=Series.objects.all(), required=False, empty_label=_("All")
    )

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not (start and end):
                raise ValidationError(_("Choose both dates, or one of the periods."))
            if start > end:
                raise ValidationError(_("The first date comes after the last."))
            if (end - start).days >= self.LONGEST_DAYS:
                raise ValidationError(_("Choose at most three years."))
        return data

    def period_value(self):
        """The chosen Period (this week when nothing, or nothing valid, is chosen)."""
        data = self.cleaned_data if self.is_valid() else {}
        choice = data.get("period") or "week"
        if choice == "custom":
            return Period(data["start"], data["end"])
        return Period.this_week() if choice == "week" else Period.last_days(int(choice))


class BatchRevokeForm(forms.Form):
    revoke_access = forms.BooleanField(
        label=_("Also end the access these PINs gave"),
        required=False,
        help_text=_(
            "Readers who redeemed them lose the premium lessons at once. Unticked, they keep "
            "what they unlocked and only the unused PINs stop working."
        ),
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=150,
        required=False,
        help_text=_("Kept with each PIN, such as “promotion ended”."),
    )
