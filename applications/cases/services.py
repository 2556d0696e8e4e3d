"""The only code that changes a case.

`advance` carries out one transition of the workflow table: in a transaction, with the case's row
locked, it checks the table and the actor's right, applies the change, appends a CaseEvent and, after
commit, queues the document the transition produces. `create_drafts` opens cases (with their
"created" event) and `retry_document` re-queues a failed rendering.
"""

import hashlib

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.calendar import add_working_days
from agencies.models import Scheme
from applications.cases import audit, workflow
from applications.cases.contributions import amounts_too_large, overlaps
from applications.cases.deadlines import working_days_for
from applications.cases.guards import TransitionRefused
from applications.cases.parties import agency_on, holding_agency, parties_of
from applications.cases.states import CLOSED_STATES, Party, State
from applications.documents.tasks import dispatch_after_commit
from applications.models import ContributionYear, Material, OfficialDocument, TransferApplication
from applications.models.cases import writing_state
from applications.notify import notifications, outbox
from applications.notify import tasks as notify_tasks


class WorkflowError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class CaseMovedOn(WorkflowError):
    """Someone else acted on the case first (or the same form was posted twice)."""


class NotPermitted(WorkflowError):
    """The user is not a party who may take this action on this case."""


class ActionRefused(WorkflowError):
    """A guard of the transition said no."""


def _queue_document(case, kind, issuer):
    """Create the next version of a document and dispatch its rendering once the transaction commits."""
    latest = case.documents.filter(kind=kind).order_by("-version").values_list("version", flat=True).first()
    document = OfficialDocument.objects.create(
        application=case, kind=kind, version=(latest or 0) + 1, issuing_agency=agency_on(case, issuer)
    )
    # After commit, robust: the case has already changed; if the broker is down, the sweeper queues the
    # document as soon as the broker is back (it records whether the dispatch reached the broker).
    dispatch_after_commit(document.pk)
    return document


@transaction.atomic
def create_drafts(
    *, person, schemes_and_agencies, filed_by, filed_for_employer=None, new_employer=None, **details
):
    """Open one draft per scheme, sharing one filing reference. `schemes_and_agencies` maps a scheme to
    its (transfer-out agency, transfer-in agency)."""
    cases = []
    filing_reference = None
    for scheme, (out_agency, in_agency) in schemes_and_agencies.items():
        if out_agency.scheme != scheme or in_agency.scheme != scheme:
            raise ActionRefused(_("Each agency must handle the scheme of the application."))
        if out_agency.pk == in_agency.pk:
            raise ActionRefused(_("The transfer-in and transfer-out agencies must differ."))
        if _has_open_case(person, scheme):
            raise ActionRefused(_open_case_message(person, scheme))
        case = TransferApplication(
            scheme=scheme,
            person=person,
            filed_by=filed_by,
            filed_for_employer=filed_for_employer,
            new_employer=new_employer,
            transfer_out_agency=out_agency,
            transfer_in_agency=in_agency,
            filing_reference=filing_reference or "",
            **details,
        )
        try:
            # In a savepoint: if the insert fails, the rest of the caller's transaction stays usable.
            with transaction.atomic():
                case.save()
        except IntegrityError:
            # Two filings for the same person at the same moment both passed the check above; the
            # database's one-open-case constraint let the first in and made the second wait for it to
            # commit. Now the first case is visible: the second filer gets the same answer as the check
            # gives. Anything else (a reference that collided) is the caller's to handle.
            if _has_open_case(person, scheme):
                raise ActionRefused(_open_case_message(person, scheme)) from None
            raise
        filing_reference = case.filing_reference
        audit.case_created(case, filed_by)
        cases.append(case)
    return cases


def _has_open_case(person, scheme):
    return (
        TransferApplication.objects.filter(person=person, scheme=scheme)
        .exclude(state__in=CLOSED_STATES)
        .exists()
    )


def _open_case_message(person, scheme):
    return _("%(name)s already has an open %(scheme)s transfer; follow that one, or withdraw it first.") % {
        "name": person.name,
        "scheme": Scheme(scheme).label,
    }


def advance(case, action, user, *, expected_state=None, note="", **data):
    """Take `action` on the case as `user`. Raises CaseMovedOn, NotPermitted or ActionRefused; on success
    the change, its event and its document are all saved, or none is."""
    transition = workflow.TRANSITIONS.get(action)
    if transition is None:
        raise NotPermitted(_("This action does not exist."))
    with transaction.atomic():
        locked = (
            # Lock the case row only, not the agencies and regions joined to it.
            TransferApplication.objects.select_for_update(of=("self",))
            .select_related("person", "transfer_in_agency__region", "transfer_out_agency__region")
            .get(pk=case.pk)
        )
        if expected_state is not None and locked.state != expected_state:
            raise CaseMovedOn(_("This case has moved on since you opened it; here is its current state."))
        if transition.party not in parties_of(user, locked):
            raise NotPermitted(_("You may not take this action on this case."))
        if locked.state not in transition.sources:
            raise CaseMovedOn(_("This case has moved on since you opened it; here is its current state."))
        try:
            for guard in transition.guards:
                guard(locked, user, data)
        except TransitionRefused as refusal:
            raise ActionRefused(refusal.message) from None

        from_state = locked.state
        if transition.effect:
            transition.effect(locked, user, data)
        locked.state = transition.target_for(locked)
        now = timezone.now()
        if transition.timestamp:
            setattr(locked, transition.timestamp, now)
        days = None
        if transition.window == workflow.CLOSE:
            locked.due_date = None
        elif transition.window != workflow.KEEP:
            days = working_days_for(locked, transition.window)
            locked.due_date = add_working_days(timezone.localdate(now), days)
        with writing_state(locked):
            locked.save()
        document = None
        if transition.document:
            document = _queue_document(locked, transition.document, transition.issuer)
        audit.transition_taken(
            locked,
            user,
            action,
            from_state,
            note=note or str(data.get("reason") or ""),
            working_days=days,
            document=document,
        )
        notifications.record(locked, action, user)
    return locked


def retry_document(document, user):
    """Queue a failed document again (the case's state does not change; the retry is audited)."""
    with transaction.atomic():
        locked = OfficialDocument.objects.select_for_update().get(pk=document.pk)
        if locked.status != OfficialDocument.Status.FAILED:
            raise CaseMovedOn(_("This document is not in a failed state any more."))
        locked.status = OfficialDocument.Status.PENDING
        locked.error = ""
        locked.queued_at = timezone.now()
        locked.dispatched_at = None
        locked.save(update_fields=["status", "error", "queued_at", "dispatched_at"])
        audit.document_requeued(locked, user)
        dispatch_after_commit(locked.pk)
    return locked


def save_contribution_table(case, user, rows):
    """Replace the yearly contribution table (transfer-out clerk, before the amounts are entered). `rows` are
    clean dicts from contributions.validate_rows; all are saved or none."""
    with transaction.atomic():
        locked = TransferApplication.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if Party.OUT_CLERK not in parties_of(user, locked):
            raise NotPermitted(_("Only a clerk of the transfer-out agency enters the contribution table."))
        if locked.state != State.CONTACT_LETTER_SENT:
            raise CaseMovedOn(_("The contribution table can only be changed before the amounts are entered."))
        too_large = amounts_too_large(locked, rows)
        if too_large:
            raise ActionRefused(too_large[0].message)
        locked.contribution_years.all().delete()
        ContributionYear.objects.bulk_create([ContributionYear(application=locked, **row) for row in rows])
        flagged = overlaps(locked)
        # Transfer first, clear afterwards (先转后清): overlaps are recorded, not blocking.
        audit.contribution_table_saved(locked, user, len(rows), flagged)
    return flagged


def notify_overdue(case, today):
    """Flag a case whose step is overdue, once per due date, and e-mail the staff of the agency holding it."""
    with transaction.atomic():
        locked = (
            TransferApplication.objects.select_for_update(of=("self",))
            .select_related("transfer_in_agency", "transfer_out_agency")
            .get(pk=case.pk)
        )
        if (
            locked.due_date is None
            or locked.due_date >= today
            or locked.overdue_notified_on == locked.due_date
        ):
            return False
        locked.overdue_notified_on = locked.due_date
        locked.save(update_fields=["overdue_notified_on"])
        audit.flagged_overdue(locked)
        agency = holding_agency(locked)
        if agency is not None:
            notify_tasks.send_after_commit(outbox.record_overdue_emails(locked, agency))
    return True


MATERIAL_STATES = (State.DRAFT, State.RETURNED)


def add_material(case, user, kind, content, content_type, filename):
    """Attach an uploaded file (already checked by applications.cases.uploads) while the applicant may change the case."""
    with transaction.atomic():
        locked = TransferApplication.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if Party.APPLICANT not in parties_of(user, locked):
            raise NotPermitted(_("Only the applicant adds materials."))
        if locked.state not in MATERIAL_STATES:
            raise CaseMovedOn(_("Materials can be added to a draft or a returned application only."))
        digest = hashlib.sha256(content).hexdigest()
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[content_type]
        material = Material(
            application=locked, kind=kind, content_type=content_type, size=len(content), sha256=digest,
            uploaded_by=user,
        )  # fmt: skip
        # The stored name is ours: the user's file name is never used as a path.
        material.file.save(
            f"{locked.reference}-{kind}-{digest[:12]}.{extension}", ContentFile(content), save=False
        )
        material.save()
        audit.material_added(locked, user, material, filename)
    return material
