"""The test world: cases walked through the real workflow, a clock, and logging in.

- `put_in_state(case, state, world=None, **staff)` takes a case to `state` the way a real case gets
  there: `services.advance`, step by step along the shortest way in the workflow table, each step by the
  party the table names (the applicant submits, a transfer-in clerk sends the contact letter, a
  transfer-out clerk enters the amounts and another reviewer approves them, ...). The case then has
  what a real case has in that state: the per-step fields, the due date, the events, the documents and
  the notifications. `take(case, action)` is one step. No test writes a case's state or its audit trail
  itself (the database refuses that), except the tests that check that such a write is refused.
- Who acts: a user given by keyword (applicant=, in_clerk=, in_reviewer=, out_clerk=, out_reviewer=),
  else the world's user of that party (World.user_of), else the filer or the person's own login for
  the applicant and the agency's first staff member with the role for an agency (a reviewer other than
  the clerk who entered the amounts), created when the agency has none.
- `clock_at(day or moment)` moves every clock (time-machine) to a moment in China, so that a case's
  history at a past time (statistics, overdue steps, deadlines) is made by the same service calls at
  that time; `put_in_state(..., at=moment)` and `put_in_state(..., due=day)` walk under such a clock.
- `login(client, user)` logs a user in; agency staff and administrators also pass the second factor.
- `new_case(...)` opens a draft with `services.create_drafts`; `World`, `build_world()` and
  `build_small_world()` are the demo people plus the outsiders the workflow and integration tests need.
"""

import contextlib
import datetime
import io
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from agencies.calendar import corrections, is_working_day
from agencies.models import Agency, AgencyStaff, Region
from applications.cases import services, workflow
from applications.cases.contributions import computed_amounts
from applications.cases.deadlines import WINDOW_OF_STATE, working_days_for
from applications.cases.guards import amount_fields
from applications.cases.parties import parties_of
from applications.cases.states import Party
from applications.models import (
    DocumentType,
    Employer,
    EmployerStaff,
    InsuredPerson,
    State,
    TransferApplication,
)
from tests.factories import (
    AgencyFactory,
    AgencyStaffFactory,
    EmployerStaffFactory,
    InsuredPersonFactory,
    UserFactory,
)

User = get_user_model()
CHINA = ZoneInfo("Asia/Shanghai")

# What the steps are given when a test does not say: the amounts a transfer-out clerk enters for a
# pension case (personal account + pooled fund), a return's reason, a refusal's reason and legal basis.
PERSONAL = Decimal("12345.67")
POOLED = Decimal("19440.00")
TOTAL = PERSONAL + POOLED
REMITTANCE_REFERENCE = "HK-001"
RETURN_REASON = "缺少身份证复印件"
REFUSAL_REASON = "存在欠费"
LEGAL_BASIS = "国办发〔2009〕66号 第八条"
REJECTION_REASON = "统筹基金金额有误"

STAFF_NAMES = {
    Party.APPLICANT: "applicant",
    Party.IN_CLERK: "in_clerk",
    Party.IN_REVIEWER: "in_reviewer",
    Party.OUT_CLERK: "out_clerk",
    Party.OUT_REVIEWER: "out_reviewer",
}
AGENCY_ROLES = {
    Party.IN_CLERK: ("in", AgencyStaff.Role.CLERK),
    Party.IN_REVIEWER: ("in", AgencyStaff.Role.REVIEWER),
    Party.OUT_CLERK: ("out", AgencyStaff.Role.CLERK),
    Party.OUT_REVIEWER: ("out", AgencyStaff.Role.REVIEWER),
}


# --- the clock ----------------------------------------------------------------------------------------


def moment_in_china(day, hour=10, minute=0) -> datetime.datetime:
    """A date at hour:minute, Beijing time (an aware datetime is returned as it is)."""
    if isinstance(day, datetime.datetime):
        return day
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


@contextlib.contextmanager
def clock_at(day, hour=10, minute=0, *, tick=False):
    """Every clock stands at this moment (a date at hour:minute in China, or an aware datetime): Django's
    timezone.now() and localdate(), the default of every timestamp field, datetime and time alike.
    With tick=True it runs on from there."""
    moment = moment_in_china(day, hour, minute)
    with time_machine.travel(moment, tick=tick):
        yield moment


def _clock(at):
    return clock_at(at) if at is not None else contextlib.nullcontext()


# --- who acts -----------------------------------------------------------------------------------------


def agency_staff(agency, role, *, excluding=None):
    """The agency's first staff member with `role` (not `excluding`), created when there is none."""
    staff = AgencyStaff.objects.filter(agency=agency, role=role).order_by("pk")
    if excluding is not None:
        staff = staff.exclude(user_id=excluding)
    found = staff.select_related("user").first()
    return found.user if found else AgencyStaffFactory(agency=agency, role=role).user


def party_user(case, party, world=None, **staff):
    """The user who acts as `party` on the case (see the module's docstring)."""
    given = staff.get(STAFF_NAMES[party])
    if given is not None:
        return given
    candidates = []
    if world is not None:
        with contextlib.suppress(KeyError):
            candidates.append(world.user_of(party, case.scheme))
    if party == Party.APPLICANT:
        candidates += [case.filed_by, case.person.user]
    for user in candidates:
        if user is None or party not in parties_of(user, case):
            continue
        if party == Party.OUT_REVIEWER and user.pk == case.amounts_entered_by_id:
            continue
        return user
    if party == Party.APPLICANT:
        raise ValueError(f"{case} has no applicant who can log in")
    side, role = AGENCY_ROLES[party]
    agency = case.transfer_in_agency if side == "in" else case.transfer_out_agency
    excluding = case.amounts_entered_by_id if party == Party.OUT_REVIEWER else None
    return agency_staff(agency, role, excluding=excluding)


# --- the steps ----------------------------------------------------------------------------------------


def amounts_for(case) -> dict:
    """What the transfer-out clerk enters: the amounts computed from the contribution table when one was
    entered, else the standard amounts; only the amounts that move (amount_fields)."""
    computed = computed_amounts(case)
    if computed is not None:
        values = {
            "personal_account_amount": computed.personal_account,
            "pooled_fund_amount": computed.pooled_fund,
            "temporary_account_amount": computed.temporary_account,
        }
    else:
        values = {
            "personal_account_amount": PERSONAL,
            "pooled_fund_amount": POOLED,
            "temporary_account_amount": TOTAL,
        }
    return {
        **{name: values[name] for name in amount_fields(case)},
        "remittance_reference": REMITTANCE_REFERENCE,
    }


def step_data(case, action, target=None) -> dict:
    """What the action's form collects, valid; for match_funds, the amount that leads to `target`
    (funds matched unless funds mismatch is asked for: one yuan short)."""
    if action == "return_for_correction":
        return {"reason": RETURN_REASON}
    if action in ("refuse_by_transfer_in", "refuse_by_transfer_out"):
        return {"reason": REFUSAL_REASON, "legal_basis": LEGAL_BASIS}
    if action == "reject_amounts":
        return {"reason": REJECTION_REASON}
    if action == "enter_amounts":
        return amounts_for(case)
    if action == "match_funds":
        short = Decimal("1.00") if target == State.FUNDS_MISMATCH else Decimal("0")
        return {"received_amount": case.transfer_total - short}
    return {}


def fresh(case):
    return TransferApplication.objects.select_related(
        "person__user", "filed_by", "transfer_in_agency__region", "transfer_out_agency__region"
    ).get(pk=case.pk)


def take(case, action, world=None, *, by=None, at=None, **data):
    """One step: `action` on the case through services.advance, by `by` or else the user of the party the
    table names (see party_user), with `data` or else valid data for the step, at `at` (a date or moment
    in China) or now. Returns the case as the service left it."""
    with _clock(at):
        case = fresh(case)
        user = by or party_user(case, workflow.TRANSITIONS[action].party, world)
        return services.advance(case, action, user, **(data or step_data(case, action)))


def _edges():
    for action, transition in workflow.TRANSITIONS.items():
        targets = (
            (State.FUNDS_MATCHED, State.FUNDS_MISMATCH)
            if callable(transition.target)
            else (transition.target,)
        )
        for source in transition.sources:
            for target in targets:
                yield source, action, target


def route(start, goal) -> list[tuple[str, State]]:
    """The shortest way from one state to another in the workflow table, as (action, state reached)
    pairs; the table's order decides between ways of the same length."""
    ways = {start: []}
    queue = deque([start])
    edges = list(_edges())
    while queue:
        state = queue.popleft()
        if state == goal:
            return ways[state]
        for source, action, target in edges:
            if source == state and target not in ways:
                ways[target] = [*ways[state], (action, target)]
                queue.append(target)
    raise ValueError(f"the workflow has no way from {start} to {goal}")


def opening_day(case, state, due) -> datetime.date:
    """The day on which the step a case waits on in `state` must open to fall due on `due` (a working day):
    the working-days count is the one advance uses (the scheme's, the responsible province's policy)."""
    days = working_days_for(case, WINDOW_OF_STATE[state])
    corrected = corrections(due - datetime.timedelta(days=3 * days + 30), due)
    if not is_working_day(due, corrected):
        raise ValueError(f"{due} is not a working day: no step falls due on it")
    day, counted = due, 0
    while counted < days:
        day -= datetime.timedelta(days=1)
        counted += is_working_day(day, corrected)
    return day


def put_in_state(case, state, world=None, *, at=None, due=None, data=None, **staff):
    """Walk the case from its state to `state` through services.advance (see the module's docstring).

    at: do every step at this moment (a date, at 10:00 in China, or an aware datetime).
    due: do every step on the day that makes the open step fall due on this date.
    data: {action: data} for steps that must not use the valid defaults of step_data.
    staff: the users acting as applicant, in_clerk, in_reviewer, out_clerk or out_reviewer.
    Returns the case as the last step left it."""
    case = fresh(case)
    if due is not None:
        at = opening_day(case, state, due)
    with _clock(at):
        for action, target in route(case.state, state):
            user = party_user(case, workflow.TRANSITIONS[action].party, world, **staff)
            given = (data or {}).get(action)
            case = services.advance(case, action, user, **(given or step_data(case, action, target)))
    if case.state != state:
        raise AssertionError(f"{case} reached {case.state}, not {state}")
    return fresh(case)


# --- logging in ---------------------------------------------------------------------------------------


def pass_second_factor(client, user):
    """Agency staff and administrators must pass a TOTP second factor (applications.people.second_factor): mark
    the client's session as verified with a confirmed device of the user's."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not (user.is_staff or AgencyStaff.objects.filter(user=user).exists()):
        return
    session = client.session
    if session.get(DEVICE_ID_SESSION_KEY):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def login(client, user, *, language=None):
    """Log `user` in on the test client (a User or a user name; None stays anonymous), past the second
    factor for agency staff and administrators; `language` sets the language cookie. Returns the client."""
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if isinstance(user, str):
        user = User.objects.get(username=user)
    if user is not None:
        client.force_login(user)
        pass_second_factor(client, user)
    return client


# --- cases --------------------------------------------------------------------------------------------


def demo_agencies(scheme="pension"):
    """The demo's transfer-out (Jiujiang) and transfer-in (Hangzhou) agencies of a scheme."""
    prefix = "YL" if scheme == "pension" else "YB"
    return Agency.objects.get(code=f"{prefix}360400"), Agency.objects.get(code=f"{prefix}330100")


def new_case(
    world=None,
    scheme="pension",
    *,
    agencies=None,
    person=None,
    filed_by=None,
    employer=None,
    at=None,
    **details,
):
    """A draft opened with services.create_drafts, with its "created" event.

    agencies: (transfer-out, transfer-in); else the world's of the scheme, else the demo's Jiujiang →
    Hangzhou. person: else the world's 张伟, else a new person who signed up. Filed by the person, or by
    `filed_by` (HR of `employer`, when filing for an employee). A person has one open case per scheme."""
    out_agency, in_agency = agencies or (world.agencies(scheme) if world else demo_agencies(scheme))
    person = person or (world.person if world else InsuredPersonFactory(with_login=True))
    with _clock(at):
        (case,) = services.create_drafts(
            person=person,
            schemes_and_agencies={out_agency.scheme: (out_agency, in_agency)},
            filed_by=filed_by or person.user,
            filed_for_employer=employer,
            new_employer=employer,
            **details,
        )
    return case


# --- the workflow tests' world ------------------------------------------------------------------------


@dataclass
class World:
    """The demo people (seed_demo) plus the outsiders and the medical agencies' staff tests need."""

    person: InsuredPerson  # 张伟, files for himself
    applicant: User
    other_person: InsuredPerson  # 李娜, another insured person with her own login
    other_applicant: User
    in_clerk: User
    in_clerk_2: User
    in_reviewer: User
    out_clerk: User
    out_reviewer: User
    out_clerk_and_reviewer: User  # both roles at the transfer-out agency
    outsider_clerk: User  # clerk of an agency that has nothing to do with the case
    outsider_reviewer: User
    hr: User  # HR of the demo employer
    other_hr: User  # HR of another employer
    employer: Employer
    employee: InsuredPerson  # an employee of the demo employer, without a login
    yl_in: Agency
    yl_out: Agency
    yb_in: Agency
    yb_out: Agency
    yb_in_clerk: User
    yb_out_clerk: User
    yb_out_reviewer: User

    def user_of(self, party: Party, scheme="pension") -> User:
        if scheme == "medical":
            return {
                Party.APPLICANT: self.applicant,
                Party.IN_CLERK: self.yb_in_clerk,
                Party.OUT_CLERK: self.yb_out_clerk,
                Party.OUT_REVIEWER: self.yb_out_reviewer,
            }[party]
        return {
            Party.APPLICANT: self.applicant,
            Party.IN_CLERK: self.in_clerk,
            Party.IN_REVIEWER: self.in_reviewer,
            Party.OUT_CLERK: self.out_clerk,
            Party.OUT_REVIEWER: self.out_reviewer,
        }[party]

    def agencies(self, scheme):
        return (self.yl_out, self.yl_in) if scheme == "pension" else (self.yb_out, self.yb_in)


def staff_user(username, agency, *, reviewer=False):
    """A named staff member of the agency (found again when asked for twice)."""
    user = UserFactory(username=username, first_name=username)
    return AgencyStaffFactory(user=user, agency=agency, reviewer=reviewer).user


# The agencies the tests use: the demo pension and medical agencies of Hangzhou and Jiujiang, and Beijing.
WORLD_AGENCIES = ("YL330100", "YL360400", "YB330100", "YB360400", "YL110100")


def build_small_world() -> World:
    """The same world for transactional tests, faster: only the five agencies the tests use are created
    (seed_demo then skips the national directory), and the GB/T 2260 regions are loaded again if an
    earlier transactional test flushed them."""
    from agencies.reference import load_regions

    if not Region.objects.exists():
        load_regions(Region)
    for code in WORLD_AGENCIES:
        AgencyFactory(
            demo=True,
            scheme="pension" if code.startswith("YL") else "medical",
            region=Region.objects.select_related("parent").get(code=code[2:]),
        )
    return build_world()


def build_world() -> World:
    """seed_demo, then the extra people. Safe to run inside a transaction or committed."""
    call_command("seed_demo", stdout=io.StringIO())
    yl_in, yl_out = Agency.objects.get(code="YL330100"), Agency.objects.get(code="YL360400")
    yb_in, yb_out = Agency.objects.get(code="YB330100"), Agency.objects.get(code="YB360400")
    beijing = Agency.objects.get(code="YL110100")
    other_employer, _created = Employer.objects.get_or_create(
        uscc="91110000600037341L",
        defaults={"name": "北京另一家单位（测试）", "region": Region.objects.get(code="110100")},
    )
    other_hr = EmployerStaffFactory(
        user=UserFactory(username="hr.other", first_name="另一单位人事"), employer=other_employer
    ).user
    employer = EmployerStaff.objects.get(user__username="hr.hangzhou").employer
    both = staff_user("both.jiujiang", yl_out)
    staff_user("both.jiujiang", yl_out, reviewer=True)
    return World(
        person=InsuredPerson.objects.get(
            document_type=DocumentType.RESIDENT_ID, document_number="360426199101010071"
        ),
        applicant=User.objects.get(username="360426199101010071"),
        other_person=InsuredPerson.objects.get(document_number="120103198806018241"),
        other_applicant=User.objects.get(username="120103198806018241"),
        in_clerk=User.objects.get(username="clerk.hangzhou"),
        in_clerk_2=staff_user("clerk2.hangzhou", yl_in),
        in_reviewer=User.objects.get(username="reviewer.hangzhou"),
        out_clerk=User.objects.get(username="clerk.jiujiang"),
        out_reviewer=User.objects.get(username="reviewer.jiujiang"),
        out_clerk_and_reviewer=both,
        outsider_clerk=staff_user("clerk.beijing", beijing),
        outsider_reviewer=staff_user("reviewer.beijing", beijing, reviewer=True),
        hr=User.objects.get(username="hr.hangzhou"),
        other_hr=other_hr,
        employer=employer,
        employee=InsuredPerson.objects.filter(employer=employer).order_by("document_number").first(),
        yl_in=yl_in,
        yl_out=yl_out,
        yb_in=yb_in,
        yb_out=yb_out,
        yb_in_clerk=staff_user("clerk.yb.hangzhou", yb_in),
        yb_out_clerk=staff_user("clerk.yb.jiujiang", yb_out),
        yb_out_reviewer=staff_user("reviewer.yb.jiujiang", yb_out, reviewer=True),
    )
