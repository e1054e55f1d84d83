from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("series/<slug:slug>/", views.checkout, name="checkout"),
    path("orders/<str:order_id>/", views.order, name="order"),
    path("orders/<str:order_id>/status/", views.order_status, name="order_status"),
    path("notify/<str:token>/", views.notification, name="notification"),
]
