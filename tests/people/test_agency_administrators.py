"""Agency administrators manage their own agency's staff in the portal: invite (a one-time link to set a
password and enrol the second factor), change a role, deactivate (sessions end at once), reset a second
factor, see the last login. Only their own agency's staff; no case of any agency."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import AgencyStaff
from applications.cases import services
from applications.cases.parties import parties_of
from applications.models import AccountEvent, UserProfile
from applications.people.tokens import invitation_token
from tests.factories import AgencyStaffFactory, InsuredPersonFactory, UserFactory
from tests.people.conftest import OTP, base32_key, english_client, links_in, log_in, path_of, totp_now

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "Lantern-meadow-2026"


def staff_url(agency, *parts):
    name = {"": "agency_staff", "invite": "agency_staff_invite"}
    if not parts:
        return reverse("agency_staff", args=[agency.pk])
    if parts[0] == "invite":
        return reverse(name["invite"], args=[agency.pk])
    action, member = parts
    return reverse(f"agency_staff_{action}", args=[agency.pk, member.pk])


@pytest.fixture
def admin_client(agency_admin):
    client = english_client()
    client.force_login(agency_admin)  # marked as past the second factor (tests/conftest.py)
    return client


def invite(admin_client, agency, outbox, capture, **overrides):
    data = {
        "username": "wang.fang",
        "name": "王芳",
        "email": "wang.fang@example.cn",
        "role": "clerk",
        **overrides,
    }
    with capture(execute=True):
        response = admin_client.post(staff_url(agency, "invite"), data)
    return response


def test_an_invited_clerk_sets_a_password_enrols_and_works(
    agency, agency_admin, admin_client, outbox, django_capture_on_commit_callbacks, no_otp_throttle
):
    assert admin_client.get(staff_url(agency)).status_code == 200
    response = invite(admin_client, agency, outbox, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    user = User.objects.get(username="wang.fang")
    assert not user.has_usable_password() and user.email == ""
    assert AgencyStaff.objects.get(user=user).role == "clerk"
    (message,) = outbox
    assert message.to == ["wang.fang@example.cn"] and "wang.fang" in message.body
    link = path_of(links_in(message)[0])
    invited = AccountEvent.objects.get(user=user, action=AccountEvent.Action.STAFF_INVITED)
    assert invited.actor == agency_admin and invited.agency == agency

    client = english_client()
    assert client.get(link).status_code == 200
    accepted = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert accepted.status_code == 302 and accepted.url.startswith(OTP)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and user.email == "wang.fang@example.cn"
    key = base32_key(client.get(OTP).content.decode())
    assert client.post(f"{OTP}?next=/", {"token": totp_now(key)}).status_code == 302
    assert client.get(reverse("agency_queue", args=[agency.pk])).status_code == 200

    # The link works once.
    reused = english_client().get(link)
    assert reused.status_code == 400 and "has been used already" in reused.content.decode()


def test_an_invitation_opened_by_someone_logged_in_as_another_user_changes_nothing(
    agency, admin_client, outbox, django_capture_on_commit_callbacks
):
    invite(admin_client, agency, outbox, django_capture_on_commit_callbacks)
    link = path_of(links_in(outbox[0])[0])
    other = english_client()
    other.force_login(UserFactory(username="somebody.else"))
    response = other.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 409
    assert "You are logged in as somebody.else" in response.content.decode()
    assert not User.objects.get(username="wang.fang").has_usable_password()
    assert other.session[SESSION_KEY] == str(User.objects.get(username="somebody.else").pk)


def test_a_second_invitation_replaces_the_first_link(
    agency, admin_client, outbox, django_capture_on_commit_callbacks
):
    invite(admin_client, agency, outbox, django_capture_on_commit_callbacks)
    user = User.objects.get(username="wang.fang")
    first = path_of(links_in(outbox[0])[0])
    user.set_unusable_password()
    user.save()
    assert english_client().get(first).status_code == 400
    assert (
        english_client().get(reverse("accept_invitation", args=[invitation_token(user)])).status_code == 200
    )


def test_a_taken_user_name_and_a_bad_role_are_refused(
    agency, admin_client, outbox, django_capture_on_commit_callbacks
):
    UserFactory(username="wang.fang")
    before = User.objects.count()
    response = invite(admin_client, agency, outbox, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "This user name is taken" in response.content.decode()
    response = invite(
        admin_client,
        agency,
        outbox,
        django_capture_on_commit_callbacks,
        username="li.lei",
        role="administrator",
    )
    assert "role" in response.context["invite_form"].errors
    assert User.objects.count() == before and outbox == []


def test_the_administrator_changes_a_role_and_resets_a_second_factor(
    agency, agency_admin, admin_client, clerk
):
    membership = AgencyStaff.objects.get(user=clerk)
    assert admin_client.post(staff_url(agency, "role", membership), {"role": "reviewer"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == "reviewer"
    changed = AccountEvent.objects.get(user=clerk, action=AccountEvent.Action.STAFF_ROLE_CHANGED)
    assert changed.data == {"from_role": "clerk", "to_role": "reviewer"}

    TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    StaticDevice.objects.create(user=clerk, name="backup codes", confirmed=True)
    open_session = english_client()
    open_session.force_login(clerk)
    admin_client.post(staff_url(agency, "reset_second_factor", membership))
    assert (
        not TOTPDevice.objects.filter(user=clerk).exists()
        and not StaticDevice.objects.filter(user=clerk).exists()
    )
    assert open_session.session.get(SESSION_KEY) is None
    reset = AccountEvent.objects.get(user=clerk, action=AccountEvent.Action.SECOND_FACTOR_RESET)
    assert reset.actor == agency_admin and reset.agency == agency and reset.data["devices"] >= 2
    # At the next login the member sets up a new one.
    client = english_client()
    log_in(client, clerk.username)
    assert client.get(OTP).context["setting_up"] is True


def test_a_deactivated_member_is_refused_at_once(agency, admin_client, clerk):
    membership = AgencyStaff.objects.get(user=clerk)
    open_session = english_client()
    open_session.force_login(clerk)
    queue = reverse("agency_queue", args=[agency.pk])
    assert open_session.get(queue).status_code == 200
    assert admin_client.post(staff_url(agency, "deactivate", membership)).status_code == 302
    refused = open_session.get(queue)
    assert refused.status_code == 302 and refused.url.startswith("/accounts/login/")
    clerk.refresh_from_db()
    assert not clerk.is_active  # the account was only this membership
    assert log_in(english_client(), clerk.username).status_code == 200  # cannot log in again
    assert not AgencyStaff.objects.filter(user=clerk).exists()
    assert AgencyStaff.everyone.get(pk=membership.pk).deactivated_at is not None
    page = admin_client.get(staff_url(agency)).content.decode()
    assert "Deactivated" in page
    event = AccountEvent.objects.get(user=clerk, action=AccountEvent.Action.STAFF_DEACTIVATED)
    assert event.data["account_closed"] is True and event.data["sessions_ended"] >= 1
    # Deactivating again: a message, nothing changes.
    again = admin_client.post(staff_url(agency, "deactivate", membership), follow=True)
    assert "is no longer a member of this agency" in again.content.decode()
    assert AccountEvent.objects.filter(user=clerk, action=AccountEvent.Action.STAFF_DEACTIVATED).count() == 1


def test_a_member_with_another_role_keeps_the_account(agency, admin_client, clerk):
    InsuredPersonFactory(user=clerk)
    admin_client.post(staff_url(agency, "deactivate", AgencyStaff.objects.get(user=clerk)))
    clerk.refresh_from_db()
    assert clerk.is_active and not AgencyStaff.objects.filter(user=clerk).exists()


def test_another_agencys_staff_cannot_be_managed_by_address(agency, other_agency, admin_client, agency_admin):
    """The administrator of one agency, with another agency's id or another agency's member id in the
    address: 404, as for something that does not exist, and nothing changes."""
    stranger = AgencyStaffFactory(agency=other_agency, role=AgencyStaff.Role.CLERK)
    TOTPDevice.objects.create(user=stranger.user, name="phone", confirmed=True)
    assert admin_client.get(staff_url(other_agency)).status_code == 404
    for action, data in (("role", {"role": "reviewer"}), ("deactivate", {}), ("reset_second_factor", {})):
        assert admin_client.post(staff_url(agency, action, stranger), data).status_code == 404
        assert admin_client.post(staff_url(other_agency, action, stranger), data).status_code == 404
    assert admin_client.post(staff_url(other_agency, "invite"), {"username": "x.y"}).status_code == 404
    stranger.refresh_from_db()
    assert (
        stranger.active
        and stranger.role == "clerk"
        and TOTPDevice.objects.filter(user=stranger.user).exists()
    )
    assert not AccountEvent.objects.filter(user=stranger.user).exists()


def test_an_administrator_cannot_manage_themselves_or_another_administrator(
    agency, agency_admin, admin_client
):
    other_admin = AgencyStaffFactory(agency=agency, role=AgencyStaff.Role.ADMINISTRATOR)
    mine = AgencyStaff.objects.get(user=agency_admin)
    for member, message in (
        (mine, "You cannot change your own account here"),
        (other_admin, "managed by the portal"),
    ):
        response = admin_client.post(staff_url(agency, "deactivate", member), follow=True)
        assert message in response.content.decode()
        assert AgencyStaff.objects.filter(pk=member.pk).exists()


def test_clerks_and_reviewers_get_no_staff_pages(agency, clerk):
    client = english_client()
    client.force_login(clerk)
    assert client.get(staff_url(agency)).status_code == 404
    assert client.post(staff_url(agency, "invite"), {}).status_code == 404


def test_the_staff_list_shows_the_last_login(agency, admin_client, clerk):
    clerk.last_login = datetime.datetime(2026, 11, 30, 9, 15, tzinfo=datetime.UTC)
    clerk.save()
    assert "2026-11-30 17:15" in admin_client.get(staff_url(agency)).content.decode()  # Beijing time


def test_an_agency_administrator_is_no_party_to_a_case_and_has_no_queue(agency, other_agency, agency_admin):
    """The workflow's parties are clerks and reviewers: an administrator of the transfer-in agency gets
    404 on the case, its actions and the queue, exactly as a stranger."""
    person = InsuredPersonFactory(user=UserFactory())
    [case] = services.create_drafts(
        person=person,
        schemes_and_agencies={"pension": (other_agency, agency)},
        filed_by=person.user,
        declarations={
            "retired": False,
            "contributions_paused": True,
            "arrears": False,
            "in_hospital": False,
            "unfinished_transfer": False,
            "approved_job_transfer": False,
            "old_medical_kind": "employee",
            "new_medical_kind": "employee",
        },
    )
    case = services.advance(case, "submit", person.user)
    assert parties_of(agency_admin, case) == set()
    client = english_client()
    client.force_login(agency_admin)
    assert client.get(reverse("case_detail", args=[case.reference])).status_code == 404
    action = client.post(
        reverse("case_action", args=[case.reference, "send_contact_letter"]), {"expected_state": case.state}
    )
    assert action.status_code == 404
    case.refresh_from_db()
    assert case.state == "submitted"
    for name in ("agency_queue", "agency_queue_csv", "agency_approvals", "agency_statistics"):
        assert client.get(reverse(name, args=[agency.pk])).status_code == 404, name
    # Their home is the staff page.
    assert client.get("/").url == reverse("agency_staff", args=[agency.pk])


def test_the_portal_administrator_resets_a_second_factor_in_the_admin(clerk, admin_user):
    TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    client = english_client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [clerk.pk]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    event = AccountEvent.objects.get(user=clerk, action=AccountEvent.Action.SECOND_FACTOR_RESET)
    assert event.actor == admin_user and event.agency is None


def test_the_invited_address_waits_until_the_link_is_used(
    agency, admin_client, outbox, django_capture_on_commit_callbacks
):
    invite(admin_client, agency, outbox, django_capture_on_commit_callbacks)
    assert UserProfile.objects.get(user__username="wang.fang").pending_email == "wang.fang@example.cn"


def test_overdue_mails_go_to_active_clerks_and_reviewers_not_to_administrators(agency, other_agency, outbox):
    """The overdue notice reaches the staff who work cases: not the administrator, not a deactivated clerk."""
    from applications.models import OutgoingEmail
    from applications.notify import outbox as mail_outbox

    working = AgencyStaffFactory(agency=agency, role=AgencyStaff.Role.CLERK, user__email="clerk@example.cn")
    AgencyStaffFactory(agency=agency, role=AgencyStaff.Role.ADMINISTRATOR, user__email="admin@example.cn")
    gone = AgencyStaffFactory(agency=agency, role=AgencyStaff.Role.REVIEWER, user__email="gone@example.cn")
    AgencyStaff.objects.filter(pk=gone.pk).update(active=False)
    person = InsuredPersonFactory(user=UserFactory())
    [case] = services.create_drafts(
        person=person,
        schemes_and_agencies={"pension": (other_agency, agency)},
        filed_by=person.user,
        declarations={
            "retired": False,
            "contributions_paused": True,
            "arrears": False,
            "in_hospital": False,
            "unfinished_transfer": False,
            "approved_job_transfer": False,
            "old_medical_kind": "employee",
            "new_medical_kind": "employee",
        },
    )
    case = services.advance(case, "submit", person.user)
    mail_outbox.record_overdue_emails(case, agency)
    overdue = OutgoingEmail.objects.filter(application=case, kind=OutgoingEmail.Kind.OVERDUE)
    assert [mail.to for mail in overdue] == [working.user.email]
