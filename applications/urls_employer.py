"""The employer HR portal."""

from django.urls import path

from applications.views import cases, employer

urlpatterns = [
    path("<int:employer_id>/employees/", employer.employees, name="employer_employees"),
    path("<int:employer_id>/employees/<int:person_id>/file/", cases.file_application, name="employer_file_application"),
]
