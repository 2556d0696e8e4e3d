from django.urls import path

from applications.views import cases, insured, regions

urlpatterns = [
    path("my/applications/", insured.my_applications, name="my_applications"),
    path("my/applications/new/", cases.file_application, name="file_application"),
    path(
        "my/employer-requests/<int:request_id>/",
        insured.answer_employer_request,
        name="answer_employer_request",
    ),
    path("regions/cities/", regions.region_picker, name="region_picker"),
    path("regions/agencies/", regions.agency_picker, name="agency_picker"),
    path("cases/<str:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<str:reference>/contributions/", cases.contribution_table, name="contribution_table"),
    path("cases/<str:reference>/materials/", cases.upload_material, name="upload_material"),
    path("materials/<int:material_id>/", cases.view_material, name="view_material"),
    path("cases/<str:reference>/documents/", cases.case_documents, name="case_documents"),
    path("cases/<str:reference>/act/<str:action>/", cases.case_action, name="case_action"),
    path("documents/<int:document_id>/download/", cases.download_document, name="download_document"),
    path("documents/<int:document_id>/retry/", cases.retry_document, name="retry_document"),
]
