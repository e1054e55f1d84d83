"""The author's forms in the admin: a lesson (with its live preview), a series' lessons in rows,
an image upload, and what the live preview is sent."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.text import format_lazy, slugify
from django.utils.translation import gettext_lazy as _

from config import timezones
from lessons import images, services
from lessons.models import Lesson, LessonImage, Series
from lessons.validators import validate_body_size


def body_help_text() -> str:
    """The help under a lesson's body. The admin shows help text as HTML, so the marker is
    escaped here to be seen, not swallowed as a comment."""
    return format_html(
        _(
            "Markdown. For a premium lesson, a line {marker} ends the public teaser; without "
            "it the teaser is the first paragraphs, about {words} words. Images: {upload} and "
            "paste the Markdown shown there."
        ),
        marker=format_html("<code>{}</code>", "<!-- more -->"),
        words=settings.LESSON_TEASER_WORDS,
        upload=format_html(
            '<a href="{}" target="_blank">{}</a>',
            reverse("admin:lessons_lessonimage_add"),
            _("upload one"),
        ),
    )


class MarkdownWithPreview(forms.Textarea):
    """The body's textarea with the live preview beside it (static/js/lesson-preview.js)."""

    def __init__(self, preview_url: str, attrs=None):
        super().__init__({"rows": 30, "class": "writing__textarea", **(attrs or {})})
        self.preview_url = preview_url

    def render(self, name, value, attrs=None, renderer=None):
        return render_to_string(
            "admin/lessons/lesson/_body_widget.html",
            {
                "textarea": super().render(name, value, attrs, renderer),
                "preview_url": self.preview_url,
            },
        )

    @property
    def media(self):
        return forms.Media(
            css={"all": ["css/admin-extra.css"]},
            js=[forms.Script("js/lesson-preview.js", defer=True)],
        )


class LessonAdminForm(forms.ModelForm):
    """A lesson. Giving it the number of another lesson of its series swaps the two."""

    class Meta:
        model = Lesson
        fields = ["series", "number", "part", "title", "slug", "summary", "body", "access"]
        fields += ["status", "published_at"]

    swap_with: Lesson | None = None

    def validate_constraints(self):
        self.swap_with = self._lesson_to_swap_with()
        if self.swap_with is None:
            return super().validate_constraints()
        exclude = self._get_validation_exclusions() | {"number"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)

    def _lesson_to_swap_with(self) -> Lesson | None:
        """The lesson whose number this one takes, when both stay in the same series."""
        if self.instance.pk is None or "number" not in self.changed_data:
            return None
        if "series" in self.changed_data:
            return None
        return (
            Lesson.objects.filter(series=self.instance.series_id, number=self.instance.number)
            .exclude(pk=self.instance.pk)
            .first()
        )


class MinuteDateTimeField(forms.DateTimeField):
    """A date and time to the minute, as a phone's or browser's own picker shows it."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def has_changed(self, initial, data):
        if initial and not super().has_changed(initial.replace(second=0, microsecond=0), data):
            return False
        return super().has_changed(initial, data)


class LessonInlineForm(forms.ModelForm):
    """A lesson as one compact row of its series' page."""

    # The rows' heading names the zone of the times typed in them: "published at (WIB)".
    published_at = MinuteDateTimeField(
        label=format_lazy("{} ({})", _("published at"), lazy(timezones.abbreviation, str)()),
        required=False,
        help_text=lazy(timezones.with_zone, str)(Lesson._meta.get_field("published_at").help_text),
    )

    class Meta:
        model = Lesson
        fields = ["number", "title", "access", "status", "published_at"]
        widgets = {
            "number": forms.NumberInput(attrs={"class": "lesson-row__number", "min": 1}),
            "title": forms.TextInput(attrs={"class": "lesson-row__title"}),
        }

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("title") and self.instance.series_id:
            # A lesson added here gets a slug from its title, unique in its series.
            base = slugify(data["title"])[:190] or "lesson"
            slug, n = base, 2
            while Lesson.objects.filter(series=self.instance.series_id, slug=slug).exists():
                slug, n = f"{base}-{n}", n + 1
            self.instance.slug = slug
        return data

    def clean_published_at(self):
        # The row shows the time to the minute; an unchanged minute keeps its seconds.
        value, before = self.cleaned_data["published_at"], self.instance.published_at
        if value and before and before.replace(second=0, microsecond=0) == value:
            return before
        return value

    def validate_constraints(self):
        # Numbers are checked among all the rows by the formset, so that two lessons can
        # swap numbers in one save.
        exclude = self._get_validation_exclusions() | {"number"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


class LessonInlineFormSet(BaseInlineFormSet):
    """A series' lessons, renumbered in one save: lessons that change number (or go) step
    aside first, so numbers can be swapped or rotated. Each row is saved, or deleted, through
    lessons.services."""

    def save(self, commit=True):
        if commit:
            moving = [
                form.instance.pk
                for form in self.initial_forms
                if form.instance.pk
                and (form in self.deleted_forms or "number" in form.changed_data)
            ]
            services.step_aside(Lesson.objects.filter(pk__in=moving))
        return super().save(commit)

    def save_new(self, form, commit=True):
        lesson = super().save_new(form, commit=False)
        if commit:
            services.save_lesson(lesson)
        return lesson

    def save_existing(self, form, obj, commit=True):
        lesson = form.save(commit=False)
        if commit:
            services.save_lesson(lesson)
        return lesson

    def delete_existing(self, obj, commit=True):
        if commit:
            services.delete_lesson(obj)


class LessonImageForm(forms.ModelForm):
    """An image upload, checked and cleaned by lessons.images before anything is stored."""

    upload = forms.FileField(
        label=_("Image file"),
        help_text=_("JPEG, PNG, GIF or WebP, up to %(size)s MB. Its metadata (EXIF) is removed.")
        % {"size": settings.LESSON_IMAGE_MAX_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(images.CONTENT_TYPES)}),
    )

    class Meta:
        model = LessonImage
        fields = ["upload", "alt", "series"]

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        images.check_size(upload.size)  # before reading it into memory
        cleaned = images.clean_image(upload.read(), name=upload.name)
        existing = LessonImage.objects.filter(sha256=cleaned.sha256).first()
        if existing:
            raise ValidationError(
                _("This image was uploaded before; paste %(markdown)s"),
                code="duplicate",
                params={"markdown": existing.markdown},
            )
        self.clean_image = cleaned
        return upload


class LivePreviewForm(forms.Form):
    """What the lesson form sends for a live preview."""

    body = forms.CharField(required=False, strip=False, validators=[validate_body_size])
    access = forms.ChoiceField(choices=Lesson.Access.choices, required=False)
    series = forms.ModelChoiceField(queryset=Series.objects.all(), required=False)

    @property
    def premium(self) -> bool:
        return self.cleaned_data.get("access", Lesson.Access.PREMIUM) != Lesson.Access.FREE
