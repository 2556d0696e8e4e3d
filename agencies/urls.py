from django.urls import path

from agencies import views

urlpatterns = [
    path("<int:agency_id>/queue/", views.case_queue, name="agency_queue"),
]
