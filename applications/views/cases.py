"""The case pages shared by every party: filing, the case page with its actions, and the documents.

Every view finds the case through `case_for`, which answers 404 unless the user is a party to it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from applications import services, workflow
from applications.forms_cases import FilingForm, action_form
from applications.models import Employer, InsuredPerson, OfficialDocument, TransferApplication

CASE_RELATED = (
    "person__user",
    "person__hukou_region",
    "transfer_in_agency__region",
    "transfer_out_agency__region",
    "new_employer",
    "filed_for_employer",
)


def case_for(request, reference):
    case = get_object_or_404(TransferApplication.objects.select_related(*CASE_RELATED), reference=reference)
    parties = services.parties_of(request.user, case)
    if not parties:
        raise Http404
    return case, parties


@login_required
def file_application(request, employer_id=None, person_id=None):
    """An insured person files for themselves; HR staff file for one of their employer's employees."""
    employer = None
    if employer_id is not None:
        employer = get_object_or_404(
            Employer.objects.filter(staff__user=request.user).distinct(), pk=employer_id
        )
        person = get_object_or_404(InsuredPerson, pk=person_id, employer=employer)
    else:
        person = get_object_or_404(InsuredPerson, user=request.user)
    form = FilingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cases = services.create_drafts(
                person=person,
                schemes_and_agencies=form.agencies,
                filed_by=request.user,
                filed_for_employer=employer,
                new_employer=employer or person.employer,
                old_person_number=form.cleaned_data["old_person_number"],
            )
        except services.WorkflowError as error:
            form.add_error(None, error.message)
        else:
            return redirect("case_detail", reference=cases[0].reference)
    return render(request, "cases/file.html", {"form": form, "person": person, "employer": employer})


@login_required
def case_detail(request, reference):
    case, parties = case_for(request, reference)
    transitions = [t for t in workflow.transitions_from(case.state) if t.party in parties]
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "holder": workflow.holder_of(case),
            "step": workflow.STEP_OF_STATE.get(case.state, 0),
            "steps": workflow.STEP_LABELS,
            "actions": [(t, action_form(t, case)) for t in transitions],
            "events": [
                (event, workflow.ACTION_LABELS.get(event.action, event.action))
                for event in case.events.select_related("actor")
            ],
            "documents": case.documents.select_related("issuing_agency"),
            "contribution_years": case.contribution_years.all(),
        },
    )


@login_required
@require_POST
def case_action(request, reference, action):
    case, parties = case_for(request, reference)
    transition = workflow.TRANSITIONS.get(action)
    if transition is None:
        raise Http404
    form = action_form(transition, case, request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect("case_detail", reference=reference)
    data = dict(form.cleaned_data)
    expected = data.pop("expected_state")
    try:
        services.advance(case, action, request.user, expected_state=expected, **data)
    except services.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, transition.label)
    return redirect("case_detail", reference=reference)


@login_required
def case_documents(request, reference):
    """The documents panel; the page polls it (htmx) while a document is being rendered."""
    case, _parties = case_for(request, reference)
    return render(
        request,
        "cases/_documents.html",
        {
            "case": case,
            "documents": case.documents.select_related("issuing_agency"),
        },
    )


def _document_for(request, document_id):
    document = get_object_or_404(OfficialDocument.objects.select_related("application"), pk=document_id)
    case_for(request, document.application.reference)
    return document


@login_required
def download_document(request, document_id):
    document = _document_for(request, document_id)
    if document.status != OfficialDocument.Status.READY:
        raise Http404
    filename = f"{document.application.reference}-{document.kind}-v{document.version}.pdf"
    return FileResponse(
        document.file.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
    )


@login_required
@require_POST
def retry_document(request, document_id):
    document = _document_for(request, document_id)
    try:
        services.retry_document(document, request.user)
    except services.WorkflowError as error:
        messages.error(request, error.message)
    return redirect("case_detail", reference=document.application.reference)
