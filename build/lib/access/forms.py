from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from access import services
from access.models import AccessPin
from lessons.models import Lesson, Series


class RedeemForm(forms.Form):
    pin = forms.CharField(
        label="Access PIN",
        max_length=64,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX",
            }
        ),
    )


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
            raise ValidationError(f"{part!r} is not a lesson number or range such as 2-4.")
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise ValidationError(f"{part!r} runs backwards; write it as {last}-{first}.")
        if first < 1 or last > MAX_LESSON_NUMBER:
            raise ValidationError(f"Lesson numbers go from 1 to {MAX_LESSON_NUMBER}.")
        numbers.update(range(first, last + 1))
    return sorted(numbers)


def lessons_by_number(series: Series, numbers: list[int]) -> list[Lesson]:
    """The series' lessons with these numbers; a ValidationError names any that do not exist."""
    lessons = list(series.lessons.filter(number__in=numbers).order_by("number"))
    missing = sorted(set(numbers) - {lesson.number for lesson in lessons})
    if missing:
        raise ValidationError(f"{series} has no lesson numbered {', '.join(map(str, missing))}.")
    return lessons


class IssuePinsForm(forms.Form):
    MAX_COUNT = 10_000

    series = forms.ModelChoiceField(queryset=Series.objects.all(), to_field_name="slug")
    lesson_numbers = forms.CharField(
        label="Only these lessons",
        required=False,
        help_text="Lesson numbers such as 2,3 or 2-4. Empty: every premium lesson of the series.",
    )
    count = forms.IntegerField(label="How many PINs", min_value=1, max_value=MAX_COUNT, initial=1)
    max_uses = forms.IntegerField(
        label="Uses per PIN", min_value=1, max_value=1_000_000, initial=1,
        help_text="1 for a single buyer; more for a promotion shared by several readers.",
    )  # fmt: skip
    expires_days = forms.IntegerField(
        label="PIN expires after (days)", min_value=1, max_value=3650, required=False,
        help_text="Empty: the PIN never expires.",
    )  # fmt: skip
    access_days = forms.IntegerField(
        label="Access lasts (days)", min_value=1, max_value=3650, required=False,
        help_text="Counted from redemption. Empty: access has no end.",
    )  # fmt: skip
    note = forms.CharField(
        max_length=AccessPin._meta.get_field("note").max_length, required=False,
        help_text='For staff, e.g. "IG @buyer".',
    )  # fmt: skip
    batch = forms.CharField(
        label="Batch label", max_length=AccessPin._meta.get_field("batch").max_length,
        required=False, help_text='e.g. "black-friday-2026".',
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
            note=data["note"],
            batch=data["batch"],
            issued_by=issued_by,
        )

    def clean(self):
        data = super().clean()
        series = data.get("series")
        if series is not None:
            try:
                numbers = parse_lesson_numbers(data.get("lesson_numbers", ""))
                data["lessons"] = lessons_by_number(series, numbers) if numbers else []
            except ValidationError as error:
                self.add_error("lesson_numbers", error)
        return data
