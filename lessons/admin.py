from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config import timezones
from config.permissions import requires
from lessons import services
from lessons.forms import (
    LessonAdminForm,
    LessonImageForm,
    LessonInlineForm,
    LessonInlineFormSet,
    LivePreviewForm,
    MarkdownWithPreview,
    body_help_text,
)
from lessons.models import INDEX_WARNING, Lesson, LessonImage, Series
from lessons.rendering import budget
from lessons.rendering.limits import RenderError


class BoundedRendering:
    """Saving renders the author's text (validation, then the save, lessons inline included):
    within one time budget per request, and one render at a time per author
    (lessons.rendering.budget), whose refusal the form shows beside the text it keeps."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with budget.bounded(user=request.user):
            return super().changeform_view(request, object_id, form_url, extra_context)


class LessonInline(admin.TabularInline):
    """A series' lessons, one compact row each: renumber, rename, publish or schedule them
    here; the text and the slug are edited on the lesson's own page ("Edit")."""

    model = Lesson
    form = LessonInlineForm
    formset = LessonInlineFormSet
    fields = ["number", "title", "edit", "access", "status", "published_at", "go_live"]
    readonly_fields = ["go_live", "edit"]
    extra = 0
    ordering = ["number"]
    classes = ["lesson-rows"]

    @admin.display(description=_("readers see it"))
    def go_live(self, lesson):
        if not lesson.pk:
            return "—"
        state = lesson.unpublished_state
        if state == "scheduled" and lesson.published_at:
            moment = timezone.localtime(lesson.published_at)
            when = f"{date_format(moment, 'j M Y, H:i')} {moment.tzname()}"
            label = gettext("Scheduled: %(date)s") % {"date": when}
            return format_html('<span class="go-live go-live--scheduled">{}</span>', label)
        return lesson.go_live_label

    @admin.display(description=_("text"))
    def edit(self, lesson):
        if not lesson.pk:
            return ""
        url = reverse("admin:lessons_lesson_change", args=[lesson.pk])
        return format_html('<a href="{}">{}</a>', url, _("Edit"))


@admin.register(Series)
class SeriesAdmin(BoundedRendering, admin.ModelAdmin):
    list_display = ["title", "slug", "language", "is_published", "position"]
    list_editable = ["is_published", "position"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "slug"]
    inlines = [LessonInline]

    def save_model(self, request, obj, form, change):
        services.save_series(obj)

    def delete_model(self, request, obj):
        services.delete_series(obj)

    def delete_queryset(self, request, queryset):
        services.delete_many(queryset)

    fields = ["title", "slug", "description", "language", "author", "is_published", "position"]

    class Media:
        css = {"all": ["css/admin-extra.css"]}


class GoLiveFilter(admin.SimpleListFilter):
    """Draft, scheduled or live, as readers see it (the status alone says "published" for a
    lesson that is only scheduled)."""

    title = _("readers see it")
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("live", _("Live")), ("scheduled", _("Scheduled")), ("draft", _("Draft"))]

    def queryset(self, request, queryset):
        published = Lesson.objects.published()
        match self.value():
            case "live":
                return queryset.filter(pk__in=published.values("pk"))
            case "scheduled":
                return queryset.filter(status=Lesson.Status.PUBLISHED).exclude(
                    pk__in=published.values("pk")
                )
            case "draft":
                return queryset.filter(status=Lesson.Status.DRAFT)
        return queryset


@admin.register(Lesson)
class LessonAdmin(BoundedRendering, admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["title", "preview", "series", "number", "access", "go_live"]
    list_display_links = ["title"]
    list_filter = ["series", GoLiveFilter, "access"]
    list_select_related = ["series"]
    search_fields = ["title", "slug", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    readonly_fields = ["reading_minutes", "go_live", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["series", "number", "part", "title", "slug", "summary"]}),
        (_("Text"), {"fields": ["body", "reading_minutes"], "classes": ["writing-fieldset"]}),
        (
            _("Publication and access"),
            {"fields": ["access", "status", "published_at", "go_live"]},
        ),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.display(description=_("preview"))
    def preview(self, lesson):
        url = reverse("admin:lessons_lesson_preview", args=[lesson.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview"))

    @admin.display(description=_("readers see it"), ordering="published_at")
    def go_live(self, lesson):
        return lesson.go_live_label if lesson.pk else "—"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "published_at":
            field = super().formfield_for_dbfield(db_field, request, **kwargs)
            field.help_text = timezones.with_zone(field.help_text)
            return field
        if db_field.name == "body":
            url = reverse("admin:lessons_lesson_live_preview")
            kwargs["widget"] = MarkdownWithPreview(url)
            field = super().formfield_for_dbfield(db_field, request, **kwargs)
            field.help_text = body_help_text()
            return field
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        other = form.swap_with
        with transaction.atomic():
            if other:
                old = Lesson.objects.values_list("number", flat=True).get(pk=obj.pk)
                services.step_aside(Lesson.objects.filter(pk=other.pk))
            indexed = services.save_lesson(obj)
            if other:
                services.renumber_lessons({other.pk: old})
        if other:
            messages.info(
                request,
                gettext("“%(other)s” took number %(number)s: the two lessons swapped places.")
                % {"other": other.title, "number": old},
            )
        if warning := obj.teaser_warning:
            messages.warning(request, warning)
        if not indexed:
            messages.warning(request, INDEX_WARNING)

    def delete_model(self, request, obj):
        services.delete_lesson(obj)

    def delete_queryset(self, request, queryset):
        services.delete_many(queryset)

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<int:pk>/preview/", view(self.preview_view), name="lessons_lesson_preview"),
            path("live-preview/", view(self.live_preview_view), name="lessons_lesson_live_preview"),
            *super().get_urls(),
        ]

    @requires("lessons.view_lesson", "lessons.change_lesson", any_of=True)
    def preview_view(self, request, pk):
        """The lesson through the real pipeline, in the site's look: the full text, and what
        a reader without access gets (the teaser, and the box access/ shows under it)."""
        lesson = get_object_or_404(Lesson.objects.select_related("series"), pk=pk)
        if not self.has_view_permission(request, lesson):
            raise PermissionDenied
        context = {
            "title": _("Preview: %(lesson)s") % {"lesson": lesson},
            "opts": self.opts,
            "lesson": lesson,
            "series": lesson.series,
        }
        response = render(request, "admin/lessons/lesson/preview.html", context)
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response

    @requires("lessons.add_lesson", "lessons.change_lesson", any_of=True)
    def live_preview_view(self, request):
        """The body being written, rendered by the real pipeline, as a page for the preview
        beside the textarea. POST only (the admin checks the CSRF token), for staff who may
        write lessons. Rendering is bounded as a save's is (lessons.rendering.budget): one at a
        time per author (429 while another runs), and a newer preview stops this one (409)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = LivePreviewForm(request.POST)
        status = 200 if form.is_valid() else 400
        context = {"form": form}
        if status == 200:
            try:
                with budget.bounded(user=request.user, preview=True) as bound:
                    status = self._live_preview(request, form, bound, context)
            except budget.Superseded:
                response = HttpResponse(
                    gettext("A newer preview replaced this one."),
                    status=409,
                    content_type="text/plain; charset=utf-8",
                )
                add_never_cache_headers(response)
                return response
        response = render(request, "admin/lessons/lesson/live_preview.html", context, status=status)
        if status == 429:
            response["Retry-After"] = str(budget.RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)
        return response

    def _live_preview(self, request, form, bound, context) -> int:
        """Fill `context` with the preview of the form's text; the response's status."""
        series = form.cleaned_data.get("series")
        context["language"] = series.language if series else ""
        if bound.refusal:
            form.add_error("body", bound.refusal)
            return 429
        from lessons.rendering.bounded import render_markdown  # loads Markdown
        from lessons.rendering.preview import preview

        try:
            context["preview"] = preview(
                form.cleaned_data["body"],
                premium=form.premium,
                word_budget=settings.LESSON_TEASER_WORDS,
                words_per_minute=settings.LESSON_WORDS_PER_MINUTE,
                cut_html=render_to_string("admin/lessons/lesson/_teaser_cut.html", request=request),
                # in a child process given LESSON_RENDER_SECONDS, as a save renders
                render=render_markdown,
            )
        except RenderError as error:  # what a save would refuse, said the same way
            form.add_error("body", error.problems)
            return 400
        return 200


@admin.register(LessonImage)
class LessonImageAdmin(admin.ModelAdmin):
    form = LessonImageForm
    list_display = ["thumbnail", "__str__", "markdown_code", "size_display", "series", "created_at"]
    list_filter = ["series"]
    search_fields = ["alt", "file"]
    readonly_fields = [
        "thumbnail",
        "markdown_to_paste",
        "size_display",
        "uploaded_by",
        "created_at",
    ]
    list_select_related = ["series"]

    class Media:
        css = {"all": ["css/admin-extra.css"]}
        js = [forms.Script("js/copy.js", defer=True)]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["upload", "alt", "series"]
        return ["thumbnail", "markdown_to_paste", "alt", "series", "size_display",
                "uploaded_by", "created_at"]  # fmt: skip

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm  # the file itself never changes
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("image"))
    def thumbnail(self, image):
        return format_html(
            '<img class="image-thumb" src="{}" alt="" width="{}" height="{}" loading="lazy">',
            image.url,
            image.width,
            image.height,
        )

    @admin.display(description=_("Markdown to paste"))
    def markdown_code(self, image):
        return format_html('<code class="nowrap">{}</code>', image.markdown)

    @admin.display(description=_("Markdown to paste"))
    def markdown_to_paste(self, image):
        return format_html(
            '<div class="paste"><textarea id="image-markdown" class="paste__text" rows="3" '
            'readonly>{}</textarea><button type="button" class="button" data-copy="#image-markdown"'
            ' data-copied="{}" data-copy-failed="{}" hidden>{}</button></div><p class="help">{}'
            "</p>",
            image.markdown,
            _("Copied"),
            _("Select the text and copy it"),
            _("Copy"),
            _(
                "Paste it into a lesson's body where the image goes, and write what it shows "
                "between the brackets."
            ),
        )

    @admin.display(description=_("size"))
    def size_display(self, image):
        return _("%(width)s × %(height)s pixels, %(kb)s KB") % {
            "width": image.width,
            "height": image.height,
            "kb": max(1, round(image.size / 1024)),
        }

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        record, _created = LessonImage.objects.store(
            form.clean_image,
            alt=obj.alt,
            series=obj.series,
            uploaded_by=request.user,
        )
        # The stored record stands for the form's object (the admin logs and redirects to it).
        obj.pk, obj.file = record.pk, record.file
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        """Straight to the image's page, where its Markdown waits to be copied."""
        self.message_user(
            request, gettext("Uploaded. Copy the Markdown below into a lesson."), messages.SUCCESS
        )
        return redirect("admin:lessons_lessonimage_change", obj.pk)
