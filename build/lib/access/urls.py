from django.urls import path

from access import views

app_name = "access"
urlpatterns = [
    path("redeem/", views.redeem, name="redeem"),
    path("mine/", views.my_access, name="mine"),
]
