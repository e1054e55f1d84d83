from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lessons.models import Lesson, Series


class LessonInline(admin.TabularInline):
    model = Lesson
    fields = ["number", "title", "slug", "access", "status", "published_at"]
    show_change_link = True
    extra = 0
    ordering = ["number"]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "language", "is_published", "position"]
    list_editable = ["is_published", "position"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "slug"]
    inlines = [LessonInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "description",
                    "language",
                    "author",
                    "is_published",
                    "position",
                ]
            },
        ),
        (
            _("Selling"),
            {
                "description": _(
                    "What readers without access see, and how they reach you to buy a PIN."
                ),
                "fields": [
                    "cta_message",
                    "paywall_message",
                    "price",
                    "instagram_handle",
                    "whatsapp_number",
                    "sales_language",
                    "pin_message",
                ],
            },
        ),
    ]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "series", "number", "access", "status", "published_at", "preview"]
    list_display_links = ["title"]
    list_filter = ["series", "status", "access"]
    list_select_related = ["series"]
    search_fields = ["title", "slug", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    readonly_fields = ["reading_minutes", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["series", "number", "part", "title", "slug", "summary"]}),
        (_("Text"), {"fields": ["body", "reading_minutes"]}),
        (_("Publication and access"), {"fields": ["access", "status", "published_at"]}),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.display(description=_("preview"))
    def preview(self, lesson):
        url = reverse("admin:lessons_lesson_preview", args=[lesson.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview"))

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:pk>/preview/", preview, name="lessons_lesson_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        """The lesson through the real pipeline: the full text, and what a reader without
        access gets (the teaser and the paywall box)."""
        lesson = get_object_or_404(Lesson.objects.select_related("series"), pk=pk)
        if not self.has_view_permission(request, lesson):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(lesson)s") % {"lesson": lesson},
            "opts": self.opts,
            "original": lesson,
            "lesson": lesson,
            "series": lesson.series,
        }
        response = TemplateResponse(request, "admin/lessons/lesson/preview.html", context)
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response
