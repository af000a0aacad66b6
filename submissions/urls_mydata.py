from django.urls import path

from submissions import views_mydata

app_name = "mydata"

urlpatterns = [
    path("", views_mydata.my_data, name="overview"),
]
