"""The audit trail: one function per event, the only code that writes CaseEvent, AccessRecord and
AccountEvent rows (and EmployerLinkRequest rows, the record of an employer asking to list a person and of
their answer).

Each event carries a short human note (shown on the case's timeline) and structured `data` (amounts as
strings of yuan, dates as ISO strings, ids): what statistics, documents and auditors read, so that
nobody re-parses notes or recomputes a due date with a policy that changed since.

Personal data stays out of `data`: ids and counts, never names or identity numbers.
"""

from django.utils import timezone

from applications.models import AccessRecord, AccountEvent, CaseEvent, EmployerLinkRequest

AMOUNT_FIELDS = (
    "personal_account_amount",
    "pooled_fund_amount",
    "temporary_account_amount",
    "transfer_total",
    "received_amount",
)


def _event(case, actor, action, *, from_state=None, note="", **data):
    return CaseEvent.objects.create(
        application=case,
        actor=actor,
        action=action,
        from_state=case.state if from_state is None else from_state,
        to_state=case.state,
        note=note,
        data={key: value for key, value in data.items() if value is not None},
    )


def _iso(day):
    return day.isoformat() if day else None


# Events of the case (CaseEvent).


def case_created(case, actor):
    return _event(
        case,
        actor,
        "created",
        from_state="",
        scheme=case.scheme,
        filing_reference=case.filing_reference,
        transfer_in_agency=case.transfer_in_agency_id,
        transfer_out_agency=case.transfer_out_agency_id,
        filed_for_employer=case.filed_for_employer_id,
    )


def transition_taken(case, actor, action, from_state, *, note="", working_days=None, document=None):
    """A transition of the workflow table, after its effect: the due date in force from now on (and the
    number of working days it was computed from), the amounts the case holds, the reason given, and the
    document it queued."""
    amounts = {name: str(getattr(case, name)) for name in AMOUNT_FIELDS if getattr(case, name) is not None}
    return _event(
        case,
        actor,
        action,
        from_state=from_state,
        note=note,
        due_date=_iso(case.due_date),
        working_days=working_days,
        amounts=amounts or None,
        reason=case.reason or None,
        legal_basis=case.legal_basis or None,
        document=document.pk if document else None,
        document_kind=document.kind if document else None,
        document_version=document.version if document else None,
    )


def material_added(case, actor, material, filename):
    return _event(
        case,
        actor,
        "material_added",
        note=f"{material.get_kind_display()} ({filename[:80]})",
        material=material.pk,
        kind=material.kind,
        sha256=material.sha256,
        size=material.size,
    )


def contribution_table_saved(case, actor, rows, overlapping):
    """`overlapping`: (year, month, region, region) tuples of months paid in two places (recorded, not
    blocking: transfer first, clear afterwards, 先转后清)."""
    note = f"{rows} rows"
    if overlapping:
        note += "; overlapping months: " + ", ".join(f"{y}-{m:02d} {a}/{b}" for y, m, a, b in overlapping)
    return _event(
        case,
        actor,
        "contribution_table_saved",
        note=note,
        rows=rows,
        overlapping_months=[f"{y}-{m:02d}" for y, m, _a, _b in overlapping] or None,
    )


def document_requeued(document, actor):
    return _event(
        document.application,
        actor,
        "retry_document",
        note=document.get_kind_display(),
        document=document.pk,
        document_kind=document.kind,
        document_version=document.version,
    )


def flagged_overdue(case):
    return _event(
        case, None, "flagged_overdue", note=f"due {case.due_date:%Y-%m-%d}", due_date=_iso(case.due_date)
    )


# Who looked at what (AccessRecord).


def _access(user, what, case=None, object_id=None, **data):
    return AccessRecord.objects.create(
        user=user,
        application=case,
        what=what,
        object_id=object_id,
        data={k: v for k, v in data.items() if v is not None},
    )


def case_viewed(user, case):
    return _access(user, AccessRecord.What.VIEWED_CASE, case)


def document_downloaded(user, document):
    return _access(
        user,
        AccessRecord.What.DOWNLOADED_DOCUMENT,
        document.application,
        document.pk,
        kind=document.kind,
        version=document.version,
    )


def material_viewed(user, material):
    return _access(
        user, AccessRecord.What.VIEWED_MATERIAL, material.application, material.pk, kind=material.kind
    )


def export_made(user, *, agency=None, filters=None, rows=None):
    """A list exported by agency staff: of which agency, with which filters, how many rows when known
    before streaming (no personal data)."""
    filters = {key: str(value) for key, value in (filters or {}).items() if value not in (None, "", [])}
    return _access(
        user,
        AccessRecord.What.EXPORTED,
        agency=getattr(agency, "pk", agency),
        filters=filters or None,
        rows=rows,
    )


# An employer asks to list a person who has an account; the person answers (EmployerLinkRequest).


def employer_link_requested(person, employer, requested_by):
    return EmployerLinkRequest.objects.create(person=person, employer=employer, requested_by=requested_by)


def employer_link_answered(link, *, accepted):
    link.status = EmployerLinkRequest.Status.ACCEPTED if accepted else EmployerLinkRequest.Status.DECLINED
    link.answered_at = timezone.now()
    link.save(update_fields=["status", "answered_at"])
    return link


# Events of an account (AccountEvent): not about a case, so not on a case's timeline. `actor` is who did
# it (None: someone with the e-mail link, not logged in); `agency` the agency whose administrator acted.


def _account(user, action, *, actor=None, agency=None, **data):
    return AccountEvent.objects.create(
        user=user,
        actor=actor,
        agency=agency,
        action=action,
        data={key: value for key, value in data.items() if value is not None},
    )


def password_reset_requested(user, *, mailed):
    """`mailed`: False when the account's hourly limit held the e-mail back."""
    return _account(user, AccountEvent.Action.PASSWORD_RESET_REQUESTED, mailed=mailed)


def password_reset(user, *, sessions_ended):
    return _account(user, AccountEvent.Action.PASSWORD_RESET, sessions_ended=sessions_ended)


def email_change_requested(user, *, had_email):
    return _account(user, AccountEvent.Action.EMAIL_CHANGE_REQUESTED, actor=user, had_email=had_email)


def email_confirmed(user):
    return _account(user, AccountEvent.Action.EMAIL_CONFIRMED)


def other_sessions_ended(user, *, sessions_ended):
    return _account(user, AccountEvent.Action.OTHER_SESSIONS_ENDED, actor=user, sessions_ended=sessions_ended)


def second_factor_enrolled(user):
    return _account(user, AccountEvent.Action.SECOND_FACTOR_ENROLLED, actor=user)


def backup_codes_made(user, *, count):
    return _account(user, AccountEvent.Action.BACKUP_CODES_MADE, actor=user, count=count)


def backup_code_used(user, *, left):
    return _account(user, AccountEvent.Action.BACKUP_CODE_USED, actor=user, left=left)


def second_factor_reset(user, actor, *, agency=None, devices=0, sessions_ended=0):
    return _account(
        user,
        AccountEvent.Action.SECOND_FACTOR_RESET,
        actor=actor,
        agency=agency,
        devices=devices,
        sessions_ended=sessions_ended,
    )


def staff_invited(user, actor, agency, *, role):
    return _account(user, AccountEvent.Action.STAFF_INVITED, actor=actor, agency=agency, role=role)


def invitation_accepted(user):
    return _account(user, AccountEvent.Action.INVITATION_ACCEPTED, actor=user)


def staff_role_changed(user, actor, agency, *, from_role, to_role):
    return _account(
        user,
        AccountEvent.Action.STAFF_ROLE_CHANGED,
        actor=actor,
        agency=agency,
        from_role=from_role,
        to_role=to_role,
    )


def staff_deactivated(user, actor, agency, *, role, account_closed, sessions_ended):
    return _account(
        user,
        AccountEvent.Action.STAFF_DEACTIVATED,
        actor=actor,
        agency=agency,
        role=role,
        account_closed=account_closed,
        sessions_ended=sessions_ended,
    )
