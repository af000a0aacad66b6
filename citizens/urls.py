from django.urls import path

from citizens import views

app_name = "citizens"

urlpatterns = [
    path("", views.resident_list, name="resident_list"),
    path("<int:pk>/", views.resident_detail, name="resident_detail"),
]
