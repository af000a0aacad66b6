from django.urls import path

from citizens import invitation_views

urlpatterns = [
    path("", invitation_views.invitation_required, name="invitation_required"),
    path("<str:token>/", invitation_views.invitation_accept, name="invitation_accept"),
]
