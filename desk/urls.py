from django.urls import path

from desk import staff, views

urlpatterns = [
    path("<int:agency_id>/queue/", views.case_queue, name="agency_queue"),
    path("<int:agency_id>/queue.csv", views.queue_csv, name="agency_queue_csv"),
    path("<int:agency_id>/approvals/", views.approvals, name="agency_approvals"),
    path("<int:agency_id>/statistics/", views.statistics, name="agency_statistics"),
    path("<int:agency_id>/staff/", staff.staff_list, name="agency_staff"),
    path("<int:agency_id>/staff/invite/", staff.invite, name="agency_staff_invite"),
    path("<int:agency_id>/staff/<int:staff_id>/role/", staff.change_role, name="agency_staff_role"),
    path(
        "<int:agency_id>/staff/<int:staff_id>/deactivate/", staff.deactivate, name="agency_staff_deactivate"
    ),
    path(
        "<int:agency_id>/staff/<int:staff_id>/second-factor/reset/",
        staff.reset_second_factor,
        name="agency_staff_reset_second_factor",
    ),
]
