"""An employer's HR adds a person who has their own account: the person decides (单位关联申请).

A person who signed up manages their own transfers. HR staff file and withdraw transfers for the
employees on their employer's list, so putting such a person on the list needs the person's consent: HR's
add asks the person (a request in their portal, with accept and decline), and only an accepted request
puts them on the list. Until then the employee lookups that filing and bulk filing use
(InsuredPerson.employer) do not find them.

HR is told the same thing whether a request was made or not (applications/employees.py), so the
add-employee form does not tell them who has an account or is on another employer's list.
"""

from django.db import IntegrityError, transaction

from applications.cases import audit
from applications.models import EmployerLinkRequest, InsuredPerson

PENDING = EmployerLinkRequest.Status.PENDING


def ask_person(person, employer, requested_by):
    """Ask `person` to confirm that they work for `employer`; one pending request per person and
    employer (asking again changes nothing)."""
    if EmployerLinkRequest.objects.filter(person=person, employer=employer, status=PENDING).exists():
        return None
    try:
        with transaction.atomic():
            return audit.employer_link_requested(person, employer, requested_by)
    except IntegrityError:
        return None  # the same request made at the same moment by another HR user


def pending_for(user):
    """The requests waiting for this user's answer."""
    if not user.is_authenticated:
        return EmployerLinkRequest.objects.none()
    return (
        EmployerLinkRequest.objects.filter(person__user=user, status=PENDING)
        .select_related("employer__region")
        .order_by("requested_at", "pk")
    )


def answer(user, request_id, *, accept):
    """The person's answer to a pending request. Raises EmployerLinkRequest.DoesNotExist when the request
    is not theirs or is answered already. Accepting puts them on the employer's list (off another's)."""
    with transaction.atomic():
        link = (
            EmployerLinkRequest.objects.select_for_update(of=("self",))
            .select_related("employer")
            .get(pk=request_id, person__user=user, status=PENDING)
        )
        if accept:
            InsuredPerson.objects.filter(pk=link.person_id).update(employer=link.employer)
        return audit.employer_link_answered(link, accepted=accept)
