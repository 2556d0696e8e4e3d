"""The agency portal: the work queue, the reviewer's inbox, the CSV export and the statistics.

Every page is for the staff of the agency in the address only: anyone else gets the same 404 as for an
agency that does not exist, so that the pages do not even confirm which agencies have staff here.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.calendar import add_working_days
from agencies.models import AgencyStaff
from applications import csvio
from applications.cases import audit
from applications.models import CaseEvent, InsuredPerson, TransferApplication
from applications.people.identifiers import looks_like_document_number
from desk import queue, stats, svg


def agency_for(request, agency_id, role=None):
    """The agency and the user's case roles there (one query); 404 unless the user is its clerk or
    reviewer (with `role`, if given). An agency administrator manages staff and sees no cases."""
    memberships = list(
        AgencyStaff.objects.filter(
            user=request.user, agency_id=agency_id, role__in=AgencyStaff.CASE_ROLES
        ).select_related("agency__region")
    )
    roles = {membership.role for membership in memberships}
    if not memberships or (role is not None and role not in roles):
        raise Http404
    return memberships[0].agency, roles


def portal_context(agency, roles, section, user=None):
    return {
        "agency": agency,
        "roles": sorted(roles),
        "is_reviewer": AgencyStaff.Role.REVIEWER in roles,
        "is_administrator": user is not None
        and AgencyStaff.objects.filter(
            user=user, agency=agency, role=AgencyStaff.Role.ADMINISTRATOR
        ).exists(),
        "section": section,
    }


def page_of(request, items):
    """The requested page (10 to 100 rows; a page number out of range gives the last page) and the
    page numbers to link, with ellipses."""
    per_page = queue.bounded_per_page(request.GET.get("per_page"))
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    return page, per_page, list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


def _search_by_document_number(request, agency, text):
    """Replace a full ID number in the address by the ids of the persons it names, so that the number
    does not stay in the address bar, the browser history or the links of the page."""
    number = text.strip().upper()
    person_ids = sorted(
        set(
            queue.agency_cases(agency)
            .filter(person__document_number=number)
            .values_list("person_id", flat=True)
        )
    )
    params = request.GET.copy()
    for name in ("q", "page"):
        params.pop(name, None)
    # No such person: an id no person has, so that the page says nothing matched.
    params.setlist("person", [str(pk) for pk in person_ids] or ["0"])
    return redirect(f"{request.path}?{params.urlencode()}")


def _queue_filters(request, agency):
    today = timezone.localdate()
    soon_limit = add_working_days(today, queue.DUE_SOON_WORKING_DAYS)
    provinces = queue.province_choices()
    form = queue.QueueFilterForm(request.GET, provinces)
    return form, form.filters(), today, soon_limit, dict(provinces)


@login_required
def case_queue(request, agency_id):
    """The work queue: tabs per work item, filters, search, due badges, most urgent first."""
    agency, roles = agency_for(request, agency_id)
    text = request.GET.get("q", "")
    if text.strip() and looks_like_document_number(text):
        return _search_by_document_number(request, agency, text)
    form, filters, today, soon_limit, provinces = _queue_filters(request, agency)
    counts = queue.work_counts(agency, filters, today, soon_limit)
    cases = queue.ordered(queue.filtered(agency, filters, today, soon_limit), today)
    page, per_page, page_numbers = page_of(request, cases)
    rows = [queue.decorate(case, agency, today, soon_limit, provinces) for case in page.object_list]
    persons = []
    if filters.get("person"):
        persons = [
            (person.name, person.masked_document_number)
            for person in InsuredPerson.objects.filter(pk__in=filters["person"])
        ]
    tabs = [("", _("All work"), counts["all"], counts["all_overdue"])] + [
        (key, item.label, counts[key], counts[f"{key}_overdue"]) for key, item in queue.WORK_ITEMS.items()
    ]
    # htmx swaps the queue part in place; restoring a page missing from its history cache needs it whole.
    htmx = request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers
    context = {
        **portal_context(agency, roles, "queue", request.user),
        "form": form,
        "filters": filters,
        "tabs": tabs,
        "page": page,
        "page_numbers": page_numbers,
        "rows": rows,
        "per_page": per_page,
        "per_page_choices": [10, 25, 50, 100],
        "persons": persons,
        "soon_limit": soon_limit,
    }
    if htmx:
        response = render(request, "agencies/_queue.html", context)
        # After a redirect (an ID number search) the address to keep is this one, not the one asked for.
        response["HX-Push-Url"] = request.get_full_path()
        return response
    return render(request, "agencies/queue.html", context)


@login_required
def queue_csv(request, agency_id):
    """The current queue view (same filters, every page) as CSV, streamed, through the one CSV writer
    (applications/csvio.py: a byte order mark so that Excel reads the Chinese names, formula injection
    neutralised), with ID numbers masked as on the page."""
    agency, roles = agency_for(request, agency_id)
    form, filters, today, soon_limit, provinces = _queue_filters(request, agency)
    cases = queue.ordered(queue.filtered(agency, filters, today, soon_limit), today)
    audit.export_made(request.user, agency=agency, filters=filters)
    header = [
        _("Case reference"),
        _("Scheme"),
        _("State"),
        _("ID number (masked)"),
        _("Name"),
        _("Other agency"),
        _("Due date"),
        _("Overdue"),
    ]
    yes, no = _("yes"), _("no")

    def rows():
        for case in cases.iterator(chunk_size=500):
            row = queue.decorate(case, agency, today, soon_limit, provinces)
            yield (
                row.reference,
                row.get_scheme_display(),
                row.get_state_display(),
                row.masked_id,
                row.person.name,
                row.other_agency.name,
                row.due_date.isoformat() if row.due_date else "",
                yes if row.is_overdue else no,
            )

    response = StreamingHttpResponse(csvio.stream_csv(header, rows()), content_type="text/csv; charset=utf-8")
    filename = f"queue-{agency.pk}-{today:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def approvals(request, agency_id):
    """The reviewer's inbox (复核): amounts entered by a clerk that wait for a second person's approval.
    Reviewers of the agency only; they approve or send back on the case page."""
    agency, roles = agency_for(request, agency_id, role=AgencyStaff.Role.REVIEWER)
    today = timezone.localdate()
    soon_limit = add_working_days(today, queue.DUE_SOON_WORKING_DAYS)
    entered_at = (
        CaseEvent.objects.filter(application=OuterRef("pk"), action="enter_amounts")
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    cases = (
        TransferApplication.objects.filter(queue.WORK_ITEMS["approvals"].q(agency))
        .select_related("person", "transfer_in_agency", "transfer_out_agency", "amounts_entered_by")
        .annotate(entered_at=Subquery(entered_at))
        .order_by(F("due_date").asc(nulls_last=True), F("entered_at").asc(nulls_last=True), "pk")
    )
    page, per_page, page_numbers = page_of(request, cases)
    provinces = {}
    rows = [queue.decorate(case, agency, today, soon_limit, provinces) for case in page.object_list]
    context = {
        **portal_context(agency, roles, "approvals", request.user),
        "page": page,
        "page_numbers": page_numbers,
        "rows": rows,
        "per_page": per_page,
    }
    return render(request, "agencies/approvals.html", context)


@login_required
def statistics(request, agency_id):
    """Monthly volumes and the on-time rate of the agency's deadlines, as SVG charts with tables."""
    agency, roles = agency_for(request, agency_id)
    today = timezone.localdate()
    volumes = stats.monthly_volumes(agency, today)
    rates = stats.on_time_rates(agency, today)
    months = [f"{v.month:%Y-%m}" for v in volumes]
    volume_chart = svg.bar_chart(
        chart_id="volumes-chart",
        title=_("Cases per month"),
        description=_(
            "Cases submitted, completed and refused in each of the last 12 months; the table below gives the numbers."
        ),
        categories=months,
        series=[
            svg.Series(_("Submitted"), [v.submitted for v in volumes]),
            svg.Series(_("Completed"), [v.completed for v in volumes]),
            svg.Series(_("Refused"), [v.refused for v in volumes]),
        ],
    )
    schemes = list(dict.fromkeys(rate.scheme for rate in rates))
    windows = list(dict.fromkeys(rate.window for rate in rates))
    by_key = {(rate.window, rate.scheme): rate for rate in rates}
    rate_chart = svg.bar_chart(
        chart_id="on-time-chart",
        title=_("On-time rate per deadline"),
        description=_(
            "Share of this agency's steps answered within their deadline, per deadline and scheme; the table below gives the numbers."
        ),
        categories=[stats.WINDOW_SHORT_LABELS[w] for w in windows],
        series=[
            svg.Series(
                str(by_key[windows[0], scheme].scheme_label), [by_key[w, scheme].rate for w in windows]
            )
            for scheme in schemes
        ],
        maximum=100,
        unit="%",
        show_values=True,
        missing_label=_("no steps"),
    )
    context = {
        **portal_context(agency, roles, "statistics", request.user),
        "volumes": volumes,
        "totals": stats.by_month_totals(volumes),
        "rates": rates,
        "volume_chart": volume_chart,
        "rate_chart": rate_chart,
        "period_start": volumes[0].month,
        "period_end": today,
        "generated_at": timezone.localtime(),
    }
    return render(request, "agencies/statistics.html", context)
