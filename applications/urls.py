from django.urls import path

from applications.views import employer, insured

urlpatterns = [
    path("my/applications/", insured.my_applications, name="my_applications"),
    path("employer/<int:employer_id>/employees/", employer.employees, name="employer_employees"),
]
