"""The employer HR portal: the employees (add one, import a CSV, remove), bulk filing from a CSV with its
per-row error report and the progress of the application forms, and every case the employer filed.

Every page finds the employer through the user's own HR staff rows, so anyone else gets the same 404
as for an employer that does not exist.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from agencies.models import Scheme
from applications import csvio
from applications.employers import bulk
from applications.employers.employees import (
    ADDED,
    REFERRED,
    EmployeeForm,
    EmployeeImportForm,
    add_employee,
    import_employees,
    referred_message,
)
from applications.models import (
    DocumentKind,
    Employer,
    FilingBatch,
    InsuredPerson,
    OfficialDocument,
    State,
    TransferApplication,
)

EMPLOYEES_PER_PAGE = 50
CASES_PER_PAGE = 25
BATCH_CASES_PER_PAGE = 50
ERRORS_SHOWN = 200  # more are in the downloadable report
CASE_LIST_RELATED = ("person", "transfer_in_agency", "transfer_out_agency")


def employer_for(request, employer_id):
    return get_object_or_404(
        Employer.objects.select_related("region__parent").filter(staff__user=request.user).distinct(),
        pk=employer_id,
    )


def _page(request, queryset, per_page):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


@login_required
def employees(request, employer_id):
    employer = employer_for(request, employer_id)
    # PostgreSQL refuses a NUL character in a query parameter (a server error): it cannot be in a name.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:60]
    people = employer.employees.select_related("hukou_region__parent").order_by("name", "pk")
    if query:
        people = people.filter(name__icontains=query)
    recent = employer.filed_applications.select_related(*CASE_LIST_RELATED).order_by("-created_at")[:10]
    context = {
        "employer": employer,
        "page": _page(request, people, EMPLOYEES_PER_PAGE),
        "query": query,
        "cases": recent,
    }
    return render(request, "employer/employees.html", context)


@login_required
def add_employee_view(request, employer_id):
    employer = employer_for(request, employer_id)
    form = EmployeeForm(request.POST or None, employer=employer)
    if request.method == "POST" and form.is_valid():
        person, outcome = add_employee(form, request.user)
        if outcome == ADDED:
            messages.success(request, _("%(name)s is added to your employees.") % {"name": person.name})
            return redirect("employer_employees", employer_id=employer.pk)
        if outcome == REFERRED:
            messages.info(request, referred_message(form.cleaned_data["name"]))
            return redirect("employer_employees", employer_id=employer.pk)
    return render(request, "employer/add_employee.html", {"employer": employer, "form": form})


def _import_report_key(employer):
    return f"employee_import_report_{employer.pk}"


@login_required
def import_employees_view(request, employer_id):
    employer = employer_for(request, employer_id)
    form = EmployeeImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        added, referred, errors = import_employees(employer, form.cleaned_data["csv_file"], request.user)
        # The per-row report of a rejected file, kept in the session for its download (the file itself
        # is not kept).
        if errors:
            request.session[_import_report_key(employer)] = [error.as_dict() for error in errors]
        else:
            request.session.pop(_import_report_key(employer), None)
        if not errors:
            messages.success(request, _("Imported. Added to your employees: %(added)d.") % {"added": added})
            if referred:
                messages.info(
                    request,
                    _(
                        "Not added directly: %(referred)d. A person who has an account on the portal is asked "
                        "there to confirm that they work for you, and appears on your list once they accept."
                    )
                    % {"referred": referred},
                )
            return redirect("employer_employees", employer_id=employer.pk)
    context = {
        "employer": employer,
        "form": form,
        "errors": errors[:ERRORS_SHOWN],
        "error_count": len(errors),
        "columns": ("name", "document_number", "document_type", "hukou_region", "phone", "sex", "birth_date"),
    }
    return render(request, "employer/import_employees.html", context)


@login_required
def import_employees_report(request, employer_id):
    """The per-row report of the user's last rejected employee import, as CSV in the bulk filing's
    format (only the header when there is none)."""
    employer = employer_for(request, employer_id)
    problems = request.session.get(_import_report_key(employer), [])
    response = HttpResponse(csvio.report_csv(problems), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="employee-import-errors.csv"'
    return response


@login_required
@require_POST
def remove_employee(request, employer_id, person_id):
    """Take a person off the list (they left): the cases already filed stay with the employer."""
    employer = employer_for(request, employer_id)
    person = get_object_or_404(InsuredPerson, pk=person_id, employer=employer)
    InsuredPerson.objects.filter(pk=person.pk, employer=employer).update(employer=None)
    messages.success(request, _("%(name)s is removed from your employees.") % {"name": person.name})
    return redirect("employer_employees", employer_id=employer.pk)


# Bulk filing


@login_required
def bulk_filing(request, employer_id):
    employer = employer_for(request, employer_id)
    form = bulk.BulkFilingForm(request.POST or None, request.FILES or None)
    rejected = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["csv_file"]
        name = upload.name or ""
        read = bulk.read_upload(upload)
        errors = read.errors
        filings = []
        if not errors:
            filings, errors = bulk.validate_filings(employer, read.rows)
        if not errors:
            try:
                batch = bulk.file_all(employer, request.user, filings, name)
            except bulk.FilingFailed as failure:
                errors = [csvio.CsvError(failure.row, "", failure.message)]
            else:
                count = batch.cases.count()
                messages.success(
                    request,
                    ngettext(
                        "%(cases)d application was filed and submitted.",
                        "%(cases)d applications were filed and submitted.",
                        count,
                    )
                    % {"cases": count},
                )
                return redirect("employer_batch", employer_id=employer.pk, batch_id=batch.pk)
        rejected = bulk.reject(employer, request.user, errors, name, len(read.rows))
    # Explicit order: Meta.ordering is not applied to a query with an aggregate.
    recent_batches = (
        employer.filing_batches.select_related("uploaded_by")
        .annotate(case_count=Count("cases"))
        .order_by("-created_at", "-pk")[:10]
    )
    context = {
        "employer": employer,
        "form": form,
        "rejected": rejected,
        "errors_shown": rejected.errors[:ERRORS_SHOWN] if rejected else [],
        "columns": (*bulk.COLUMNS, *bulk.OPTIONAL_COLUMNS),
        "batches": recent_batches,
    }
    return render(request, "employer/bulk.html", context)


@login_required
def bulk_template(request, employer_id):
    employer_for(request, employer_id)
    response = HttpResponse(bulk.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="bulk-filing.csv"'
    return response


def _batch_for(request, employer_id, batch_id):
    employer = employer_for(request, employer_id)
    batch = get_object_or_404(
        FilingBatch.objects.select_related("uploaded_by"), pk=batch_id, employer=employer
    )
    return employer, batch


@login_required
def batch_errors(request, employer_id, batch_id):
    """The per-row error report of a rejected upload, as CSV."""
    _employer, batch = _batch_for(request, employer_id, batch_id)
    response = HttpResponse(csvio.report_csv(batch.errors), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-filing-{batch.pk}-errors.csv"'
    return response


def _progress_context(request, employer, batch):
    ready_form = Q(
        documents__kind=DocumentKind.APPLICATION_FORM, documents__status=OfficialDocument.Status.READY
    )
    failed_form = Q(
        documents__kind=DocumentKind.APPLICATION_FORM, documents__status=OfficialDocument.Status.FAILED
    )
    counts = batch.cases.aggregate(
        total=Count("pk", distinct=True),
        ready=Count("pk", filter=ready_form, distinct=True),
        failed=Count(
            "pk", filter=failed_form & ~Q(pk__in=batch.cases.filter(ready_form).values("pk")), distinct=True
        ),
    )
    forms = OfficialDocument.objects.filter(kind=DocumentKind.APPLICATION_FORM).order_by("-version")
    cases = (
        batch.cases.select_related(*CASE_LIST_RELATED)
        .prefetch_related(Prefetch("documents", queryset=forms, to_attr="application_forms"))
        .order_by("pk")
    )
    return {
        "employer": employer,
        "batch": batch,
        "counts": counts,
        "done": counts["ready"] + counts["failed"] >= counts["total"],
        "page": _page(request, cases, BATCH_CASES_PER_PAGE),
    }


@login_required
def batch_detail(request, employer_id, batch_id):
    employer, batch = _batch_for(request, employer_id, batch_id)
    if batch.status == FilingBatch.Status.REJECTED:
        return redirect("employer_bulk_filing", employer_id=employer.pk)
    return render(request, "employer/batch.html", _progress_context(request, employer, batch))


@login_required
def batch_progress(request, employer_id, batch_id):
    """The progress panel; the batch page polls it (htmx) until every application form is produced."""
    employer, batch = _batch_for(request, employer_id, batch_id)
    context = _progress_context(request, employer, batch)
    # 286 tells htmx to stop polling (the answer is still shown).
    return render(request, "employer/_batch_progress.html", context, status=286 if context["done"] else 200)


# The employer's cases


class CaseFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"), choices=[("", gettext_lazy("Any state"))] + State.choices, required=False
    )
    scheme = forms.ChoiceField(
        label=gettext_lazy("Scheme"),
        choices=[("", gettext_lazy("Any scheme"))] + Scheme.choices,
        required=False,
    )
    q = forms.CharField(
        label=gettext_lazy("Name or case reference"), max_length=60, required=False, strip=True
    )


@login_required
def employer_cases(request, employer_id):
    employer = employer_for(request, employer_id)
    form = CaseFilterForm(request.GET or None)
    cases = TransferApplication.objects.filter(filed_for_employer=employer).select_related(*CASE_LIST_RELATED)
    if form.is_valid():
        data = form.cleaned_data
        if data["state"]:
            cases = cases.filter(state=data["state"])
        if data["scheme"]:
            cases = cases.filter(scheme=data["scheme"])
        if data["q"]:
            cases = cases.filter(Q(person__name__icontains=data["q"]) | Q(reference__iexact=data["q"]))
    cases = cases.order_by("-created_at", "-pk")
    context = {"employer": employer, "form": form, "page": _page(request, cases, CASES_PER_PAGE)}
    return render(request, "employer/cases.html", context)
