"""The case pages shared by every party: filing, the case page with its actions, the contribution
table, and the documents.

Every view finds the case through `case_for`, which answers 404 unless the user is a party to it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications.cases import audit, services, workflow
from applications.cases.checklist import checklist
from applications.cases.contributions import COLUMNS as CONTRIBUTION_COLUMNS
from applications.cases.contributions import (
    amounts_too_large,
    computed_amounts,
    overlaps,
    read_csv,
    validate_rows,
)
from applications.cases.deadlines import predicted_completion
from applications.cases.eligibility import DECLARATION_FIELDS, assess_case, explain
from applications.cases.parties import holder_of, parties_of, party_to
from applications.cases.states import STEP_LABELS, STEP_OF_STATE, Party
from applications.models import (
    Employer,
    InsuredPerson,
    Material,
    OfficialDocument,
    State,
    TransferApplication,
)
from applications.rules.benefit_place import benefit_place
from applications.views.case_forms import (
    ContributionRowFormSet,
    ContributionTableUploadForm,
    FilingWithDeclarationsForm,
    MaterialForm,
    action_form,
)

CASE_RELATED = (
    "person__user", "person__hukou_region", "transfer_in_agency__region", "transfer_out_agency__region",
    "new_employer", "filed_for_employer",
)  # fmt: skip


def case_for(request, reference):
    case = get_object_or_404(TransferApplication.objects.select_related(*CASE_RELATED), reference=reference)
    parties = parties_of(request.user, case)
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
    form = FilingWithDeclarationsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cases = services.create_drafts(
                person=person,
                schemes_and_agencies=form.agencies,
                filed_by=request.user,
                filed_for_employer=employer,
                new_employer=employer or (None if form.cleaned_data["self_paying"] else person.employer),
                old_person_number=form.cleaned_data["old_person_number"],
                declarations=form.declarations(),
            )
        except services.WorkflowError as error:
            form.add_error(None, error.message)
        else:
            return redirect("case_detail", reference=cases[0].reference)
    context = {"form": form, "person": person, "employer": employer, "declaration_fields": DECLARATION_FIELDS}
    return render(request, "cases/file.html", context)


def contribution_summary(case):
    """The table with its computed amounts, their working, overlaps and the benefit-place advice."""
    years = list(case.contribution_years.all())
    if not years:
        return None
    advice = None
    if case.scheme == "pension" and case.person.hukou_region_id:
        # Places are compared at the prefecture (统筹地区) level.
        history = [(year.region_code[:4] + "00", year.months) for year in years]
        advice = benefit_place(history, case.person.hukou_region_id[:4] + "00")
    return {
        "years": years,
        "amounts": computed_amounts(case),
        "overlaps": overlaps(case),
        "benefit_place": advice,
    }


@login_required
def case_detail(request, reference):
    case, parties = case_for(request, reference)
    audit.case_viewed(request.user, case)
    transitions = workflow.available_to(parties, case.state)
    events = case.events.select_related("actor")
    materials = list(case.materials.all())
    context = {
        "case": case,
        "holder": holder_of(case),
        "step": STEP_OF_STATE.get(case.state, 0),
        "steps": STEP_LABELS,
        "actions": [(t, action_form(t, case)) for t in transitions],
        "events": [(event, workflow.ACTION_LABELS.get(event.action, event.action)) for event in events],
        "documents": case.documents.select_related("issuing_agency"),
        "eligibility": explain(assess_case(case)),
        "contributions": contribution_summary(case),
        "can_edit_table": Party.OUT_CLERK in parties and case.state == State.CONTACT_LETTER_SENT,
        "predicted_completion": predicted_completion(case, timezone.localdate()),
        # The other scheme's case of the same filing, only to whom is a party to it as well.
        "siblings": TransferApplication.objects.filter(
            party_to(request.user), filing_reference=case.filing_reference
        )
        .exclude(pk=case.pk)
        .distinct(),
        "materials": materials,
        "checklist": checklist(case, materials),
        "material_form": MaterialForm() if can_add_materials(case, parties) else None,
    }
    return render(request, "cases/detail.html", context)


@login_required
@require_POST
def case_action(request, reference, action):
    case, _parties = case_for(request, reference)
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


def _submitted_rows(request):
    """The raw rows and their numbers (None: numbered from 1), from the CSV upload or the typed table,
    with the errors of the form itself and the problems of the file (CsvError, shown by row)."""
    if "csv-csv_file" in request.FILES:
        upload = ContributionTableUploadForm(request.POST, request.FILES, prefix="csv")
        if not upload.is_valid():
            return upload, None, [], None, [e for errors in upload.errors.values() for e in errors], []
        numbered, file_errors = read_csv(upload.cleaned_data["csv_file"])
        raw = [values for _number, values in numbered]
        return upload, None, raw, [number for number, _values in numbered], [], file_errors
    formset = ContributionRowFormSet(request.POST, prefix="rows")
    if not formset.is_valid():
        return None, formset, [], None, list(formset.non_form_errors()) or [_("Fill in every column.")], []
    raw = [form.cleaned_data for form in formset if form.has_changed()]
    return None, formset, raw, None, [], []


@login_required
def contribution_table(request, reference):
    """The transfer-out clerk types the yearly table or imports it from CSV; all rows are saved or none."""
    case, parties = case_for(request, reference)
    if Party.OUT_CLERK not in parties:
        raise Http404
    if request.method == "GET":
        # The page shows the case's wages and balances: a view of the case (a save is a CaseEvent).
        audit.case_viewed(request.user, case)
    upload = ContributionTableUploadForm(prefix="csv")
    current = [{c: getattr(year, c) for c in CONTRIBUTION_COLUMNS} for year in case.contribution_years.all()]
    formset = ContributionRowFormSet(prefix="rows", initial=current)
    form_errors, row_errors = [], []
    if request.method == "POST":
        bound_upload, bound_formset, raw, row_numbers, form_errors, row_errors = _submitted_rows(request)
        upload, formset = bound_upload or upload, bound_formset or formset
        if not form_errors and not row_errors:
            rows, row_errors = validate_rows(raw, row_numbers=row_numbers)
            row_errors = row_errors or amounts_too_large(case, rows)
            if not row_errors:
                try:
                    flagged = services.save_contribution_table(case, request.user, rows)
                except services.WorkflowError as error:
                    messages.error(request, error.message)
                    return redirect("case_detail", reference=reference)
                messages.success(request, _("The contribution table is saved."))
                if flagged:
                    messages.warning(
                        request,
                        _(
                            "Some months were paid at two places: they are flagged, and cleared after the transfer (先转后清)."
                        ),
                    )
                return redirect("case_detail", reference=reference)
    context = {
        "case": case,
        "upload": upload,
        "formset": formset,
        "form_errors": form_errors,
        "row_errors": row_errors,
    }
    return render(request, "cases/contributions.html", context)


@login_required
def case_documents(request, reference):
    """The documents panel; the page polls it (htmx) while a document is being rendered."""
    case, _parties = case_for(request, reference)
    documents = case.documents.select_related("issuing_agency")
    return render(request, "cases/_documents.html", {"case": case, "documents": documents})


def _document_for(request, document_id):
    document = get_object_or_404(OfficialDocument.objects.select_related("application"), pk=document_id)
    case_for(request, document.application.reference)
    return document


@login_required
def download_document(request, document_id):
    document = _document_for(request, document_id)
    if document.status != OfficialDocument.Status.READY:
        raise Http404
    audit.document_downloaded(request.user, document)
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


def can_add_materials(case, parties):
    return Party.APPLICANT in parties and case.state in services.MATERIAL_STATES


@login_required
@require_POST
def upload_material(request, reference):
    """A rejected upload says why; the page keeps everything else as it was."""
    case, parties = case_for(request, reference)
    if not can_add_materials(case, parties):
        raise Http404
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_material(
                case, request.user, form.cleaned_data["kind"], form.content, form.content_type,
                form.cleaned_data["file"].name,
            )  # fmt: skip
        except services.WorkflowError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The file is attached."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("case_detail", reference=reference)


@login_required
def view_material(request, material_id):
    """Materials are shown inline to the parties of the case, with the content type decided at upload."""
    material = get_object_or_404(Material.objects.select_related("application"), pk=material_id)
    case_for(request, material.application.reference)
    audit.material_viewed(request.user, material)
    response = FileResponse(material.file.open("rb"), content_type=material.content_type)
    response["Content-Disposition"] = "inline"
    # Even a PDF viewer in the browser must not run anything from an uploaded file.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    return response
