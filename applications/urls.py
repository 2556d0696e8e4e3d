from django.urls import path

from applications.views import cases, employer, insured

urlpatterns = [
    path("my/applications/", insured.my_applications, name="my_applications"),
    path("my/applications/new/", cases.file_application, name="file_application"),
    path("employer/<int:employer_id>/employees/", employer.employees, name="employer_employees"),
    path(
        "employer/<int:employer_id>/employees/<int:person_id>/file/",
        cases.file_application,
        name="employer_file_application",
    ),
    path("cases/<str:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<str:reference>/contributions/", cases.contribution_table, name="contribution_table"),
    path("cases/<str:reference>/documents/", cases.case_documents, name="case_documents"),
    path("cases/<str:reference>/act/<str:action>/", cases.case_action, name="case_action"),
    path("documents/<int:document_id>/download/", cases.download_document, name="download_document"),
    path("documents/<int:document_id>/retry/", cases.retry_document, name="retry_document"),
]
