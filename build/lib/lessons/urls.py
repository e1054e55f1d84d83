from django.urls import path

from lessons import views

app_name = "lessons"
urlpatterns = [
    path("", views.home, name="home"),
    path("series/<slug:slug>/", views.series_detail, name="series"),
    path("series/<slug:series_slug>/<slug:slug>/", views.lesson_detail, name="lesson"),
]
