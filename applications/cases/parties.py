"""Which parties a user is on a case, and which agency holds it: read from the declaration in
applications/states.py, asked of the database once per question."""

from django.db.models import Q

from agencies.models import AgencyStaff
from applications.cases.states import HOLDER, PARTY_LABELS, Party, Side
from applications.models import EmployerStaff


def parties_of(user, case) -> set[Party]:
    """The parties a user is on a case: applicant (the person or HR of the filing employer), and clerk or
    reviewer of the transfer-in or transfer-out agency."""
    if not user.is_authenticated:
        return set()
    parties = set()
    if case.person.user_id == user.pk or (
        case.filed_for_employer_id
        and EmployerStaff.objects.filter(user=user, employer_id=case.filed_for_employer_id).exists()
    ):
        parties.add(Party.APPLICANT)
    # An agency administrator manages staff and is no party to a case (only clerks and reviewers are).
    staff = AgencyStaff.objects.filter(
        user=user,
        agency_id__in=[case.transfer_in_agency_id, case.transfer_out_agency_id],
        role__in=AgencyStaff.CASE_ROLES,
    ).values_list("agency_id", "role")
    for agency_id, role in staff:
        if agency_id == case.transfer_in_agency_id:
            parties.add(Party.of_staff(Side.IN, role))
        if agency_id == case.transfer_out_agency_id:
            parties.add(Party.of_staff(Side.OUT, role))
    return parties


def party_to(user) -> Q:
    """The cases `user` is a party to, as a query filter: the same rule as parties_of, for lists of
    cases (e.g. the other scheme's case of the same filing, which the staff of one scheme are not party
    to: its reference is not theirs to see)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    agencies = AgencyStaff.objects.filter(user=user).values("agency_id")
    return (
        Q(person__user=user)
        | Q(filed_for_employer__staff__user=user)
        | Q(transfer_in_agency__in=agencies)
        | Q(transfer_out_agency__in=agencies)
    )


def agency_on(case, side: Side):
    return case.transfer_in_agency if side == Side.IN else case.transfer_out_agency


def holding_party(case) -> Party | None:
    return HOLDER.get(case.state)


def holding_agency(case):
    """The agency that must act now, or None while the applicant holds the case or it is closed."""
    party = holding_party(case)
    if party is None or party.side is None:
        return None
    return agency_on(case, party.side)


def holder_of(case) -> str:
    """Who holds the case now, in words: the party and, for an agency, its name."""
    party = holding_party(case)
    if party is None:
        return ""
    if party.side is None:
        return str(PARTY_LABELS[party])
    return f"{agency_on(case, party.side).name} · {PARTY_LABELS[party]}"
