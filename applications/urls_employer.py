"""The employer HR portal."""

from django.urls import path

from applications.views import cases, employer

urlpatterns = [
    path("<int:employer_id>/employees/", employer.employees, name="employer_employees"),
    path("<int:employer_id>/employees/add/", employer.add_employee_view, name="employer_add_employee"),
    path(
        "<int:employer_id>/employees/import/",
        employer.import_employees_view,
        name="employer_import_employees",
    ),
    path(
        "<int:employer_id>/employees/import/errors.csv",
        employer.import_employees_report,
        name="employer_import_report",
    ),
    path(
        "<int:employer_id>/employees/<int:person_id>/remove/",
        employer.remove_employee,
        name="employer_remove_employee",
    ),
    path(
        "<int:employer_id>/employees/<int:person_id>/file/",
        cases.file_application,
        name="employer_file_application",
    ),
    path("<int:employer_id>/bulk/", employer.bulk_filing, name="employer_bulk_filing"),
    path("<int:employer_id>/bulk/template.csv", employer.bulk_template, name="employer_bulk_template"),
    path("<int:employer_id>/bulk/<int:batch_id>/", employer.batch_detail, name="employer_batch"),
    path(
        "<int:employer_id>/bulk/<int:batch_id>/progress/",
        employer.batch_progress,
        name="employer_batch_progress",
    ),
    path(
        "<int:employer_id>/bulk/<int:batch_id>/errors.csv",
        employer.batch_errors,
        name="employer_batch_errors",
    ),
    path("<int:employer_id>/cases/", employer.employer_cases, name="employer_cases"),
]
