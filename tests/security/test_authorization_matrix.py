"""Who may open or do what: every URL of the portal × every kind of user × a case in every state.

The table below is written by hand, independently of the views and of the workflow module: for each
route name, how to build its URL for a case (or its employer, agency, document, material), the method,
and the expected answer for each kind of user:

- OK: a 2xx answer, or a redirect to a page that is not the login page;
- ACTS: as OK, and the action took effect (state moved, file attached, ...);
- REFUSED: a redirect back to the case page, and nothing changed (the case page says why);
- LOGIN: a redirect to the login page; NOT_FOUND: 404; FORBIDDEN: 403.

Every route the URL resolver knows must have a row here (or be exempt with a reason below), so a new
URL without a row fails `test_every_route_has_a_row`. Each cell runs in a savepoint rolled back at
once, so cells cannot see each other's effects.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_static.models import StaticToken

from agencies.models import AgencyStaff
from applications.cases import workflow
from applications.models import (
    AccountEvent,
    ContributionYear,
    EmployerLinkRequest,
    Material,
    OfficialDocument,
    State,
    TransferApplication,
    UserProfile,
)
from applications.people import tokens
from tests.security.conftest import (
    ADMIN,
    ALL_STATES,
    ANON,
    APPLICANT,
    HR,
    IN_AGENCY_ADMIN,
    IN_CLERK,
    IN_REVIEWER,
    KINDS,
    OTHER_APPLICANT,
    OTHER_HR,
    OUT_AGENCY_ADMIN,
    OUT_CLERK,
    OUT_REVIEWER,
    OUTSIDER_CLERK,
    PASSWORD,
    TINY_PNG,
    tally,
)
from tests.world import TOTAL, login

OK, ACTS, REFUSED, LOGIN, NOT_FOUND, FORBIDDEN = "ok", "acts", "refused", "login", "404", "403"
# A page that needs a session past the second factor sends others to it; a link (e-mail confirmation,
# invitation) opened while logged in as someone else is refused with 409 and changes nothing.
SECOND_FACTOR, CONFLICT = "second-factor redirect", "409"
# Exact answers (anything else is a failure).
EXACT = (LOGIN, NOT_FOUND, FORBIDDEN, SECOND_FACTOR, CONFLICT)

# Route names (or namespaces) that are not in the matrix, and why.
EXEMPT_NAMESPACES = {
    "admin": "Django's admin has its own permission system (is_staff and model permissions); "
    "test_admin_index_by_kind checks who gets in, and tests/security/test_privacy.py that the "
    "audit trail cannot be changed there.",
}
# Static files are served by WhiteNoise's middleware, before the URL resolver: no route to list.
# The language switch (i18n) is the named route set_language and has a row.

PARTIES = {APPLICANT, HR, IN_CLERK, OUT_CLERK, IN_REVIEWER, OUT_REVIEWER}
# Users whose login needs the second factor (the conftest's force_login marks them as past it).
SECOND_FACTOR_USERS = {
    IN_CLERK,
    OUT_CLERK,
    OUTSIDER_CLERK,
    IN_REVIEWER,
    OUT_REVIEWER,
    IN_AGENCY_ADMIN,
    OUT_AGENCY_ADMIN,
    ADMIN,
}
APPLICANT_SIDE = {APPLICANT, HR}
INSURED = {APPLICANT, OTHER_APPLICANT}
D = State  # shorter below


def anyone(kind, state):
    return OK


def logged_in(kind, state):
    return LOGIN if kind == ANON else OK


def only(kinds, then=OK):
    def expect(kind, state):
        if kind == ANON:
            return LOGIN
        return then if kind in kinds else NOT_FOUND

    return expect


def with_second_factor(kind, state):
    if kind == ANON:
        return LOGIN
    return OK if kind in SECOND_FACTOR_USERS else SECOND_FACTOR


def anonymous_only(kind, state):
    """A link for an account nobody of the matrix is logged in as: opened anonymously it works; logged
    in as someone else it is refused."""
    return OK if kind == ANON else CONFLICT


def parties_in_states(kinds, states, then=ACTS, otherwise=NOT_FOUND, other_parties=NOT_FOUND):
    """`kinds` in `states` get `then`, and `otherwise` in other states; the other parties of the case get
    `other_parties`; users who are no party get 404, as for a case that does not exist."""

    def expect(kind, state):
        if kind == ANON:
            return LOGIN
        if kind not in PARTIES:
            return NOT_FOUND
        if kind not in kinds:
            return other_parties
        return then if state in states else otherwise

    return expect


# The workflow as the regulation describes it, written down here on its own: action -> (states it
# starts from, who may take it, the state it leads to with the data below, the data a user types).
ACTIONS = {
    "submit": ({D.DRAFT}, APPLICANT_SIDE, D.SUBMITTED, {}),
    "withdraw": ({D.DRAFT, D.SUBMITTED, D.RETURNED}, APPLICANT_SIDE, D.WITHDRAWN, {}),
    "return_for_correction": ({D.SUBMITTED}, {IN_CLERK}, D.RETURNED, {"reason": "请补充材料"}),
    "resubmit": ({D.RETURNED}, APPLICANT_SIDE, D.SUBMITTED, {}),
    "refuse_by_transfer_in": (
        {D.SUBMITTED}, {IN_CLERK}, D.REFUSED, {"reason": "未暂停缴费", "legal_basis": "国办发〔2009〕66号"},
    ),
    "send_contact_letter": ({D.SUBMITTED}, {IN_CLERK}, D.CONTACT_LETTER_SENT, {}),
    "refuse_by_transfer_out": (
        {D.CONTACT_LETTER_SENT}, {OUT_CLERK}, D.REFUSED, {"reason": "存在欠费", "legal_basis": "第八条"},
    ),
    "enter_amounts": (
        {D.CONTACT_LETTER_SENT}, {OUT_CLERK}, D.AMOUNTS_PENDING_APPROVAL,
        {"personal_account_amount": "100.00", "pooled_fund_amount": "200.00", "remittance_reference": "R1"},
    ),
    "approve_amounts": ({D.AMOUNTS_PENDING_APPROVAL}, {OUT_REVIEWER}, D.FUNDS_TRANSFERRED, {}),
    "reject_amounts": ({D.AMOUNTS_PENDING_APPROVAL}, {OUT_REVIEWER}, D.CONTACT_LETTER_SENT, {"reason": "再核"}),
    "send_information_form": ({D.FUNDS_TRANSFERRED}, {OUT_CLERK}, D.INFORMATION_FORM_SENT, {}),
    "match_funds": (
        {D.INFORMATION_FORM_SENT, D.FUNDS_MISMATCH}, {IN_CLERK}, D.FUNDS_MATCHED,
        {"received_amount": str(TOTAL)},
    ),
    "complete": ({D.FUNDS_MATCHED}, {IN_CLERK}, D.COMPLETED, {}),
}  # fmt: skip

CONTRIBUTION_ROW = {
    "region_code": "360400",
    "year": "2020",
    "start_month": "1",
    "end_month": "12",
    "monthly_base": "5000.00",
    "employer_rate": "0.16",
    "credited_rate": "0.08",
    "individual_rate": "0.08",
    "credited_amount": "4800.00",
    "interest": "100.00",
    "year_end_balance": "4900.00",
}


@dataclass(frozen=True)
class Row:
    name: str  # the route name
    method: str
    scope: str  # global, case (× every state), employer, agency
    url: Callable  # (world, case) -> url
    expect: Callable  # (kind, state) -> outcome
    data: Callable | None = None  # (world, case) -> POST data or GET query
    effect: Callable | None = None  # (world, case, before) -> did the action take effect?
    snapshot: Callable | None = None  # (world, case) -> what effect compares with
    label: str = ""

    @property
    def id(self):
        return self.label or self.name


def case_url(name, *extra):
    return lambda world, case: reverse(name, args=[case.reference, *extra])


def employer_url(name, *extra):
    return lambda world, case: reverse(name, args=[world.employer.pk, *[e(world) for e in extra]])


def agency_url(name, side):
    def build(world, case):
        return reverse(name, args=[(world.in_agency if side == "in" else world.out_agency).pk])

    return build


def state_of(world, case):
    return TransferApplication.objects.get(pk=case.pk).state


def action_rows():
    rows = []
    for action, (sources, who, target, data) in ACTIONS.items():

        def effect(world, case, before, target=target):
            return before != target and state_of(world, case) == target

        def payload(world, case, data=data):
            return {**data, "expected_state": state_of(world, case)}

        rows.append(
            Row(
                "case_action",
                "POST",
                "case",
                case_url("case_action", action),
                parties_in_states(who, sources, then=ACTS, otherwise=REFUSED, other_parties=REFUSED),
                data=payload,
                effect=effect,
                snapshot=state_of,
                label=f"case_action:{action}",
            )
        )
    return rows


def employer_request_to(world, case):
    request, _created = EmployerLinkRequest.objects.get_or_create(
        person=case.person, employer=world.other_employer, status="pending",
        defaults={"requested_by": world.users[OTHER_HR]},
    )  # fmt: skip
    return request


User = get_user_model()


def confirmation_link(world, case):
    """A valid e-mail confirmation link of the other applicant (made inside the cell's savepoint)."""
    user = world.users[OTHER_APPLICANT]
    UserProfile.objects.update_or_create(user=user, defaults={"pending_email": "matrix@example.cn"})
    return reverse("confirm_email", args=[tokens.email_confirmation_token(user, "matrix@example.cn")])


def invitation_link(world, case):
    """A valid invitation of a new clerk of the transfer-in agency (made inside the savepoint)."""
    user = User(username="invited.matrix", first_name="受邀")
    user.set_unusable_password()
    user.save()
    AgencyStaff.objects.create(user=user, agency=world.in_agency, role=AgencyStaff.Role.CLERK)
    return reverse("accept_invitation", args=[tokens.invitation_token(user)])


def member_of(world, side):
    """A clerk of the side's agency for the administrator's actions (made inside the savepoint)."""
    agency = world.in_agency if side == "in" else world.out_agency
    user = User.objects.create_user(username=f"member.{side}.{uuid.uuid4().hex[:8]}", password=PASSWORD)
    return AgencyStaff.objects.create(user=user, agency=agency, role=AgencyStaff.Role.CLERK)


def staff_action_url(name, page_side, member_side):
    """The administrator's action on a member: the agency in the address (`page_side`) and the agency
    of the member (`member_side`); differing, it is another agency's member reached by address."""

    def build(world, case):
        agency = world.in_agency if page_side == "in" else world.out_agency
        member = member_of(world, member_side)
        world.scratch["member"] = member.pk
        return reverse(name, args=[agency.pk, member.pk])

    return build


def member_changed(world, case, before):
    membership = AgencyStaff.everyone.filter(pk=world.scratch.get("member")).first()
    if membership is None:
        return False
    return (membership.role, membership.active) != ("clerk", True) or not membership.user.is_active


def member_device_reset(world, case, before):
    return AccountEvent.objects.filter(
        user_id=AgencyStaff.everyone.get(pk=world.scratch["member"]).user_id,
        action=AccountEvent.Action.SECOND_FACTOR_RESET,
    ).exists()


def contribution_rows_post(world, case):
    data = {"rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0", "rows-MAX_NUM_FORMS": "100"}
    data.update({f"rows-0-{name}": value for name, value in CONTRIBUTION_ROW.items()})
    return data


def material_post(world, case):
    return {"kind": "id_card", "file": SimpleUploadedFile("scan.png", TINY_PNG, content_type="image/png")}


ROWS = [
    # --- everyone's pages ----------------------------------------------------------------------------
    Row("home", "GET", "global", lambda w, c: reverse("home"), anyone),
    Row("signup", "GET", "global", lambda w, c: reverse("signup"), anyone),
    Row("login", "GET", "global", lambda w, c: reverse("login"), anyone),
    Row("logout", "POST", "global", lambda w, c: reverse("logout"), anyone),
    Row("otp", "GET", "global", lambda w, c: reverse("otp"), logged_in),
    Row("password_change", "GET", "global", lambda w, c: reverse("password_change"), logged_in),
    Row("password_change_done", "GET", "global", lambda w, c: reverse("password_change_done"), logged_in),
    Row(
        "set_language",
        "POST",
        "global",
        lambda w, c: reverse("set_language"),
        anyone,
        data=lambda w, c: {"language": "en", "next": "/"},
    ),
    Row("healthz", "GET", "global", lambda w, c: reverse("healthz"), anyone),
    # --- account recovery and the account's own pages ------------------------------------------------
    Row("password_reset", "GET", "global", lambda w, c: reverse("password_reset"), anyone),
    Row(
        "password_reset",
        "POST",
        "global",
        lambda w, c: reverse("password_reset"),
        anyone,
        data=lambda w, c: {"email": "nobody@example.cn"},
        label="password_reset:POST",
    ),
    Row("password_reset_done", "GET", "global", lambda w, c: reverse("password_reset_done"), anyone),
    Row(
        "password_reset_confirm",
        "GET",
        "global",
        lambda w, c: reverse("password_reset_confirm", args=["MQ", "wrong-token"]),
        anyone,
    ),
    Row("password_reset_complete", "GET", "global", lambda w, c: reverse("password_reset_complete"), anyone),
    Row("profile", "GET", "global", lambda w, c: reverse("profile"), logged_in),
    Row(
        "profile_email",
        "POST",
        "global",
        lambda w, c: reverse("profile_email"),
        logged_in,
        data=lambda w, c: {"email": "new@example.cn", "password": PASSWORD},
    ),
    Row("profile_sessions", "POST", "global", lambda w, c: reverse("profile_sessions"), logged_in),
    # The link confirms the address of the account it names, whoever opens it (GET shows, POST confirms).
    Row("confirm_email", "GET", "global", confirmation_link, anyone),
    Row("accept_invitation", "GET", "global", invitation_link, anonymous_only),
    Row("session_status", "GET", "global", lambda w, c: reverse("session_status"), anyone),
    Row(
        "session_status",
        "POST",
        "global",
        lambda w, c: reverse("session_status"),
        anyone,
        label="session_status:POST",
    ),
    Row("backup_codes", "GET", "global", lambda w, c: reverse("backup_codes"), with_second_factor),
    Row(
        "backup_codes_new",
        "POST",
        "global",
        lambda w, c: reverse("backup_codes_new"),
        lambda kind, state: (
            ACTS if with_second_factor(kind, state) == OK else with_second_factor(kind, state)
        ),
        snapshot=lambda w, c: StaticToken.objects.count(),
        effect=lambda w, c, before: StaticToken.objects.count() > before,
    ),
    # Without codes just made in this session there is nothing to download: back to the codes page.
    Row("backup_codes_download", "GET", "global", lambda w, c: reverse("backup_codes_download"), logged_in),
    Row("backup_codes_kept", "POST", "global", lambda w, c: reverse("backup_codes_kept"), logged_in),
    Row("readyz", "GET", "global", lambda w, c: reverse("readyz"), anyone),
    Row("notifications", "GET", "global", lambda w, c: reverse("notifications"), logged_in),
    Row("notifications_read", "POST", "global", lambda w, c: reverse("notifications_read"), logged_in),
    Row(
        "region_picker",
        "GET",
        "global",
        lambda w, c: reverse("region_picker"),
        anyone,
        data=lambda w, c: {"field": "transfer_in_region", "transfer_in_province": "330000"},
    ),
    Row(
        "agency_picker",
        "GET",
        "global",
        lambda w, c: reverse("agency_picker"),
        anyone,
        data=lambda w, c: {"side": "transfer_in", "transfer_in_region": "330100"},
    ),
    # --- insured persons -----------------------------------------------------------------------------
    Row("my_applications", "GET", "global", lambda w, c: reverse("my_applications"), only(INSURED)),
    Row("file_application", "GET", "global", lambda w, c: reverse("file_application"), only(INSURED)),
    # An employer's request to list the applicant (made inside the cell's savepoint): only they answer it.
    Row(
        "answer_employer_request",
        "POST",
        "global",
        lambda w, c: reverse("answer_employer_request", args=[employer_request_to(w, c).pk]),
        only({APPLICANT}, then=ACTS),
        data=lambda w, c: {"answer": "decline"},
        effect=lambda w, c, before: EmployerLinkRequest.objects.filter(
            person=c.person, status="declined"
        ).exists(),
    ),
    # --- a case and its files, in every state ------------------------------------------------------
    Row("case_detail", "GET", "case", case_url("case_detail"), only(PARTIES)),
    Row("case_documents", "GET", "case", case_url("case_documents"), only(PARTIES)),
    Row(
        "contribution_table",
        "GET",
        "case",
        case_url("contribution_table"),
        only({OUT_CLERK}),
        label="contribution_table:GET",
    ),
    Row(
        "contribution_table",
        "POST",
        "case",
        case_url("contribution_table"),
        parties_in_states({OUT_CLERK}, {D.CONTACT_LETTER_SENT}, then=ACTS, otherwise=REFUSED),
        data=contribution_rows_post,
        snapshot=lambda w, c: ContributionYear.objects.filter(application=c).count(),
        effect=lambda w, c, before: ContributionYear.objects.filter(application=c).count() != before,
        label="contribution_table:POST",
    ),
    Row(
        "upload_material",
        "POST",
        "case",
        case_url("upload_material"),
        parties_in_states(APPLICANT_SIDE, {D.DRAFT, D.RETURNED}, then=ACTS, otherwise=NOT_FOUND),
        data=material_post,
        snapshot=lambda w, c: Material.objects.filter(application=c).count(),
        effect=lambda w, c, before: Material.objects.filter(application=c).count() > before,
    ),
    Row(
        "view_material",
        "GET",
        "case",
        lambda w, c: reverse("view_material", args=[w.materials[c.state].pk]),
        only(PARTIES),
    ),
    Row(
        "download_document",
        "GET",
        "case",
        lambda w, c: reverse("download_document", args=[w.ready_documents[c.state].pk]),
        only(PARTIES),
    ),
    Row(
        "retry_document",
        "POST",
        "case",
        lambda w, c: reverse("retry_document", args=[w.failed_documents[c.state].pk]),
        only(PARTIES, then=ACTS),
        snapshot=lambda w, c: OfficialDocument.Status.FAILED,
        effect=lambda w, c, before: (
            OfficialDocument.objects.get(pk=w.failed_documents[c.state].pk).status
            == OfficialDocument.Status.PENDING
        ),
    ),
    *action_rows(),
    # --- the employer HR portal (the filing employer's pages) ------------------------------------------
    Row("employer_employees", "GET", "employer", employer_url("employer_employees"), only({HR})),
    Row("employer_add_employee", "GET", "employer", employer_url("employer_add_employee"), only({HR})),
    Row(
        "employer_import_employees", "GET", "employer", employer_url("employer_import_employees"), only({HR})
    ),
    Row("employer_import_report", "GET", "employer", employer_url("employer_import_report"), only({HR})),
    Row(
        "employer_remove_employee",
        "POST",
        "employer",
        employer_url("employer_remove_employee", lambda w: w.employee.pk),
        only({HR}, then=ACTS),
        snapshot=lambda w, c: w.employer.pk,
        effect=lambda w, c, before: type(w.employee).objects.get(pk=w.employee.pk).employer_id is None,
    ),
    Row(
        "employer_file_application",
        "GET",
        "employer",
        employer_url("employer_file_application", lambda w: w.employee.pk),
        only({HR}),
    ),
    Row("employer_bulk_filing", "GET", "employer", employer_url("employer_bulk_filing"), only({HR})),
    Row("employer_bulk_template", "GET", "employer", employer_url("employer_bulk_template"), only({HR})),
    Row(
        "employer_batch",
        "GET",
        "employer",
        employer_url("employer_batch", lambda w: w.filed_batch.pk),
        only({HR}),
    ),
    Row(
        "employer_batch_progress",
        "GET",
        "employer",
        employer_url("employer_batch_progress", lambda w: w.filed_batch.pk),
        only({HR}),
    ),
    Row(
        "employer_batch_errors",
        "GET",
        "employer",
        employer_url("employer_batch_errors", lambda w: w.rejected_batch.pk),
        only({HR}),
    ),
    Row("employer_cases", "GET", "employer", employer_url("employer_cases"), only({HR})),
]
# --- the agency portal, for the transfer-in and the transfer-out agency of the cases ----------------------
AGENCY_SIDES = (
    ("in", {IN_CLERK, IN_REVIEWER}, IN_REVIEWER),
    ("out", {OUT_CLERK, OUT_REVIEWER}, OUT_REVIEWER),
)
for _side, _staff, _reviewer in AGENCY_SIDES:
    _admin = IN_AGENCY_ADMIN if _side == "in" else OUT_AGENCY_ADMIN
    _other = "out" if _side == "in" else "in"
    ROWS += [
        Row("agency_staff", "GET", "agency", agency_url("agency_staff", _side), only({_admin}), label=f"agency_staff:{_side}"),
        Row(
            "agency_staff_invite", "POST", "agency", agency_url("agency_staff_invite", _side), only({_admin}, then=ACTS),
            data=lambda w, c: {"username": "invited.by.matrix", "name": "受邀", "email": "i@example.cn", "role": "clerk"},
            effect=lambda w, c, before: User.objects.filter(username="invited.by.matrix").exists(),
            label=f"agency_staff_invite:{_side}",
        ),
        Row(
            "agency_staff_role", "POST", "agency", staff_action_url("agency_staff_role", _side, _side),
            only({_admin}, then=ACTS), data=lambda w, c: {"role": "reviewer"}, effect=member_changed,
            label=f"agency_staff_role:{_side}",
        ),
        Row(
            "agency_staff_deactivate", "POST", "agency", staff_action_url("agency_staff_deactivate", _side, _side),
            only({_admin}, then=ACTS), effect=member_changed, label=f"agency_staff_deactivate:{_side}",
        ),
        Row(
            "agency_staff_reset_second_factor", "POST", "agency",
            staff_action_url("agency_staff_reset_second_factor", _side, _side), only({_admin}, then=ACTS),
            effect=member_device_reset, label=f"agency_staff_reset_second_factor:{_side}",
        ),
        # The administrator's own agency in the address, another agency's member id: 404 for everyone.
        Row(
            "agency_staff_deactivate", "POST", "agency", staff_action_url("agency_staff_deactivate", _side, _other),
            only(set()), effect=member_changed, label=f"agency_staff_deactivate:{_side}-page-{_other}-member",
        ),
        Row(
            "agency_staff_role", "POST", "agency", staff_action_url("agency_staff_role", _side, _other),
            only(set()), data=lambda w, c: {"role": "reviewer"}, effect=member_changed,
            label=f"agency_staff_role:{_side}-page-{_other}-member",
        ),
        Row(
            "agency_staff_reset_second_factor", "POST", "agency",
            staff_action_url("agency_staff_reset_second_factor", _side, _other), only(set()),
            effect=member_device_reset, label=f"agency_staff_reset_second_factor:{_side}-page-{_other}-member",
        ),
        Row("agency_queue", "GET", "agency", agency_url("agency_queue", _side), only(_staff), label=f"agency_queue:{_side}"),
        Row("agency_queue_csv", "GET", "agency", agency_url("agency_queue_csv", _side), only(_staff), label=f"agency_queue_csv:{_side}"),
        Row("agency_approvals", "GET", "agency", agency_url("agency_approvals", _side), only({_reviewer}), label=f"agency_approvals:{_side}"),
        Row("agency_statistics", "GET", "agency", agency_url("agency_statistics", _side), only(_staff), label=f"agency_statistics:{_side}"),
    ]  # fmt: skip


# --- running a cell -----------------------------------------------------------------------------------


def classify(response):
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = response.url
        if target.startswith(reverse("login")) or target.startswith("/admin/login/"):
            return LOGIN
        if target.split("?")[0] == reverse("otp"):
            return "second-factor redirect"
        return "redirect"
    if 200 <= status < 300:
        return OK
    return str(status)


def consume(response):
    """Run a streamed answer (CSV export, file download) to its end, so that its errors show; the test
    client closes it there. (Closing a response again would fire request_finished with Django's
    close_old_connections listening, and close the test's database connection.)"""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def run_cell(world, row, kind, state, clients):
    """One request in a savepoint rolled back at once. Clients are logged in once per test (outside the
    savepoint, so that the rollback keeps their session); logging out gets a client of its own."""
    case = world.cases[state or State.DRAFT]
    user = world.user(kind, case)
    if row.name == "logout":
        client = login(Client(), user, language="en")
    else:
        key = (kind, user.pk if user else None)
        if key not in clients:
            clients[key] = login(Client(), user, language="en")
        client = clients[key]
    with transaction.atomic():
        before = row.snapshot(world, case) if row.snapshot else None
        url = row.url(world, case)
        data = row.data(world, case) if row.data else {}
        response = client.post(url, data) if row.method == "POST" else client.get(url, data)
        consume(response)
        effect = row.effect(world, case, before) if row.effect else None
        transaction.set_rollback(True)
    return response, classify(response), effect


def verdict(expected, response, outcome, effect, case):
    """None when the cell is as expected, else what went wrong (a refused cell must also have changed
    nothing, where the row says what it changes)."""
    if expected in EXACT:
        if outcome != expected:
            return f"expected {expected}, got {outcome} ({response.status_code})"
        return "refused, but the action took effect" if effect else None
    if outcome not in (OK, "redirect"):
        return f"expected {expected}, got {outcome} ({response.status_code})"
    if expected == ACTS and not effect:
        return f"expected the action to take effect; got {outcome} and no effect"
    if expected == REFUSED:
        if effect:
            return "expected a refusal, but the action took effect"
        if outcome != "redirect" or response.url != reverse("case_detail", args=[case.reference]):
            return f"expected a redirect back to the case page, got {outcome}"
    return None


def test_every_route_has_a_row():
    """Every pattern the resolver knows is in the table or exempt (a new URL without a row fails)."""
    rows = {row.name for row in ROWS}
    missing = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(n for n in (namespace, pattern.namespace) if n)
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                yield namespace, pattern.name, prefix + str(pattern.pattern)

    seen = 0
    for namespace, name, route in walk(get_resolver().url_patterns, "", ""):
        seen += 1
        if namespace.split(":")[0] in EXEMPT_NAMESPACES:
            continue
        if name is None or name not in rows:
            missing.append(f"{namespace + ':' if namespace else ''}{name} ({route})")
    assert not missing, "routes without a row in the authorization matrix: " + ", ".join(missing)
    assert set(ACTIONS) == set(workflow.TRANSITIONS), "a workflow action without a row in ACTIONS"
    tally("URL patterns enumerated from the resolver", seen)


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_authorization_matrix(world, row):
    states = ALL_STATES if row.scope == "case" else (None,)
    failures, cells, clients = [], 0, {}
    for state in states:
        for kind in KINDS:
            expected = row.expect(kind, state)
            case = world.cases[state or State.DRAFT]
            response, outcome, effect = run_cell(world, row, kind, state, clients)
            cells += 1
            problem = verdict(expected, response, outcome, effect, case)
            if problem:
                failures.append(f"{row.method} {row.id} as {kind} on a {state or '-'} case: {problem}")
    tally("authorization matrix cells", cells)
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_guessing_another_case_or_file_gets_404(world):
    """Each applicant tries every other case's reference, document and material, and every party tries
    references and ids that do not exist: always 404, the same answer as for something that does not
    exist, so a guess cannot even confirm that a case exists."""
    cells = 0
    unknown_reference = "YL20260101" + "0" * 10
    max_document = OfficialDocument.objects.order_by("-pk").values_list("pk", flat=True).first()
    max_material = Material.objects.order_by("-pk").values_list("pk", flat=True).first()
    for state, case in world.cases.items():
        client = login(Client(), case.person.user, language="en")
        for other_state, other in world.cases.items():
            if other_state == state:
                continue
            urls = [
                reverse("case_detail", args=[other.reference]),
                reverse("case_documents", args=[other.reference]),
                reverse("download_document", args=[world.ready_documents[other_state].pk]),
                reverse("view_material", args=[world.materials[other_state].pk]),
            ]
            for url in urls:
                response = client.get(url)
                consume(response)
                cells += 1
                assert response.status_code == 404, (state, url, response.status_code)
            response = client.post(reverse("case_action", args=[other.reference, "withdraw"]))
            cells += 1
            assert response.status_code == 404
    for kind in sorted(PARTIES):
        client = login(Client(), world.user(kind), language="en")
        for url in (
            reverse("case_detail", args=[unknown_reference]),
            reverse("case_documents", args=[unknown_reference]),
            reverse("contribution_table", args=[unknown_reference]),
            reverse("download_document", args=[max_document + 1]),
            reverse("download_document", args=[2**62]),
            reverse("view_material", args=[max_material + 1]),
            reverse("employer_employees", args=[world.other_employer.pk]),
            reverse("employer_cases", args=[world.other_employer.pk]),
            reverse("agency_queue", args=[world.outsider_agency.pk]),
            reverse("agency_queue_csv", args=[world.outsider_agency.pk]),
        ):
            response = client.get(url)
            consume(response)
            cells += 1
            assert response.status_code == 404, (kind, url, response.status_code)
        for url in (
            reverse("case_action", args=[unknown_reference, "submit"]),
            reverse("case_action", args=[world.cases[State.DRAFT].reference, "no_such_action"]),
            reverse("upload_material", args=[unknown_reference]),
            reverse("retry_document", args=[max_document + 1]),
        ):
            response = client.post(url)
            cells += 1
            expected = 404
            assert response.status_code == expected, (kind, url, response.status_code)
    # HR of the filing employer, with another employer's person or batch in an address of their own.
    hr = login(Client(), world.users[HR], language="en")
    other_person = world.persons[0].__class__.objects.filter(employer__isnull=True).first()
    for url in (
        reverse("employer_file_application", args=[world.employer.pk, other_person.pk]),
        reverse("employer_batch", args=[world.employer.pk, world.filed_batch.pk + 1000]),
        reverse("employer_file_application", args=[world.other_employer.pk, world.employee.pk]),
    ):
        response = hr.get(url)
        cells += 1
        assert response.status_code == 404, url
    tally("guessed references and ids", cells)


@pytest.mark.django_db
def test_admin_index_by_kind(world):
    """Only the superuser gets into the admin; everyone else is sent to the admin's login page."""
    cells = 0
    for kind in KINDS:
        response = login(Client(), world.user(kind), language="en").get("/admin/")
        cells += 1
        if kind == ADMIN:
            assert response.status_code == 200
        else:
            assert classify(response) == LOGIN, kind
    tally("authorization matrix cells (admin index)", cells)
