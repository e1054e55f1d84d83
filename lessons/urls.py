from django.urls import path

from lessons import views

app_name = "lessons"
urlpatterns = [
    path("", views.home, name="home"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("sitemap-<slug:section>.xml", views.sitemap_section, name="sitemap_section"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("search/", views.search_page, name="search"),
    path("feed/", views.site_feed, name="feed"),
    path("feed/atom/", views.site_feed, {"atom": True}, name="feed_atom"),
    path("series/<slug:slug>/", views.series_detail, name="series"),
    path("series/<slug:slug>/feed/", views.series_feed, name="series_feed"),
    path(
        "series/<slug:slug>/feed/atom/",
        views.series_feed,
        {"atom": True},
        name="series_feed_atom",
    ),
    path("series/<slug:slug>/share-<slug:version>.png", views.series_image, name="series_image"),
    path("series/<slug:series_slug>/<slug:slug>/", views.lesson_detail, name="lesson"),
    path(
        "series/<slug:series_slug>/<slug:slug>/progress/",
        views.record_progress,
        name="progress",
    ),
    path(
        "series/<slug:series_slug>/<slug:slug>/share-<slug:version>.png",
        views.lesson_image,
        name="lesson_image",
    ),
]
