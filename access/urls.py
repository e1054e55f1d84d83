from django.urls import path

from access import views

app_name = "access"
urlpatterns = [
    path("redeem/", views.redeem, name="redeem"),
    path("mine/", views.my_access, name="mine"),
    path("seen/", views.paywall_seen, name="paywall_seen"),
    path("counted/", views.offer_counted, name="offer_counted"),
    path("mine/emails/", views.lesson_emails, name="lesson_emails"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("follow/<slug:slug>/", views.follow, name="follow"),
    path("follow/confirm/<str:token>/", views.follow_confirm, name="follow_confirm"),
    path("mine/feed/", views.feed_address, name="feed_address"),
    path("feed/<slug:token>/", views.private_feed, name="private_feed"),
    path("feed/<slug:token>/atom/", views.private_feed, {"atom": True}, name="private_feed_atom"),
]
