from django.urls import path

from desk import views

urlpatterns = [
    path("<int:agency_id>/queue/", views.case_queue, name="agency_queue"),
    path("<int:agency_id>/queue.csv", views.queue_csv, name="agency_queue_csv"),
    path("<int:agency_id>/approvals/", views.approvals, name="agency_approvals"),
    path("<int:agency_id>/statistics/", views.statistics, name="agency_statistics"),
]
