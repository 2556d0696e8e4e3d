"""The second factor as users expect it: a Base32 key an authenticator app takes (checked with pyotp, an
RFC 6238 implementation independent of django-otp), ten single-use backup codes, a way back after wrong
codes throttled the app, and staff asked for it from the first request after they became staff."""

import re
import threading
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django.conf import settings
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import AgencyStaff
from applications.models import AccountEvent
from applications.people import backup_codes
from tests.factories import AgencyStaffFactory, UserFactory
from tests.people.conftest import OTP, base32_key, english_client, log_in, totp_now, unique_address
from tests.workflow.helpers import require_services

pytestmark = pytest.mark.django_db


def enrol(client, username):
    """Log in and set up the app by typing the key the page shows; returns (key, codes page)."""
    assert log_in(client, username).status_code == 302
    page = client.get(OTP)
    html = page.content.decode()
    key = base32_key(html)
    response = client.post(f"{OTP}?next=/", {"token": totp_now(key)})
    assert response.status_code == 302 and response.url.startswith("/accounts/otp/backup-codes/"), response
    return key, client.get(response.url)


def test_the_key_is_base32_in_groups_of_four_and_an_authenticator_app_logs_in_with_it(clerk, no_otp_throttle):
    client = english_client()
    log_in(client, clerk.username)
    page = client.get(OTP)
    html = page.content.decode()
    shown = re.search(r'id="otp-key">([A-Z2-7 ]+)<', html).group(1)
    groups = shown.split(" ")
    assert all(len(group) == 4 for group in groups) and len("".join(groups)) == 32
    device = TOTPDevice.objects.get(user=clerk)
    assert device.key not in html  # not the hexadecimal key apps refuse

    uri = urlparse(page.context["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert unquote(uri.path) == f"/{settings.OTP_TOTP_ISSUER}:{clerk.username}"
    query = parse_qs(uri.query)
    assert query["issuer"] == [settings.OTP_TOTP_ISSUER]
    assert query["secret"] == ["".join(groups)]

    response = client.post(f"{OTP}?next=/", {"token": totp_now("".join(groups))})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AccountEvent.objects.filter(user=clerk, action=AccountEvent.Action.SECOND_FACTOR_ENROLLED).exists()


def test_ten_backup_codes_shown_once_downloadable_and_each_works_once(
    clerk, no_otp_throttle, outbox, django_capture_on_commit_callbacks
):
    clerk.email = unique_address("clerk")
    clerk.save()
    key, page = enrol(english_client(), clerk.username)
    codes = page.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10

    # Typed in capitals with a space instead of the hyphen: still the code.
    first = english_client()
    log_in(first, clerk.username)
    used = codes[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = first.post(f"{OTP}?next=/", {"token": used.upper().replace("-", " ")})
    assert response.status_code == 302 and response.url == "/"
    assert first.get("/").status_code in (200, 302)
    event = AccountEvent.objects.get(user=clerk, action=AccountEvent.Action.BACKUP_CODE_USED)
    assert event.data["left"] == 9
    (notice,) = [m for m in outbox if m.to == [clerk.email]]
    assert "备用验证码" in notice.subject and "9" in notice.body  # in the account's language (Chinese)

    # The same code a second time: refused, nothing opens.
    second = english_client()
    log_in(second, clerk.username)
    refused = second.post(f"{OTP}?next=/", {"token": used})
    assert refused.status_code == 200
    assert "has been used already" in refused.content.decode()
    assert second.get("/").url.startswith(OTP)
    assert backup_codes.codes_left(clerk) == 9


def test_the_codes_can_be_downloaded_once_made_and_made_anew(clerk, no_otp_throttle):
    client = english_client()
    key, page = enrol(client, clerk.username)
    codes = page.context["codes"]
    download = client.get("/accounts/otp/backup-codes.txt")
    assert download["Content-Type"].startswith("text/plain")
    assert "attachment" in download["Content-Disposition"]
    text = download.content.decode()
    assert all(code in text for code in codes)
    client.post("/accounts/otp/backup-codes/kept/")
    gone = client.get("/accounts/otp/backup-codes.txt")
    assert gone.status_code == 302
    assert client.get("/accounts/otp/backup-codes/").context["codes"] is None

    client.post("/accounts/otp/backup-codes/new/")
    fresh = client.get("/accounts/otp/backup-codes/").context["codes"]
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert AccountEvent.objects.filter(user=clerk, action=AccountEvent.Action.BACKUP_CODES_MADE).count() == 2
    # The old ones no longer work.
    other = english_client()
    log_in(other, clerk.username)
    assert other.post(OTP, {"token": codes[1]}).status_code == 200


def test_backup_codes_need_a_session_that_passed_the_second_factor(clerk):
    client = english_client()
    log_in(client, clerk.username)
    assert client.get("/accounts/otp/backup-codes/").url.startswith(OTP)
    assert client.post("/accounts/otp/backup-codes/new/").url.startswith(OTP)
    assert client.get("/accounts/otp/backup-codes.txt").status_code == 302
    assert backup_codes.codes_left(clerk) == 0


def test_wrong_codes_throttle_the_app_but_a_backup_code_still_lets_the_real_user_in(clerk, settings):
    """Someone who knows the password sends wrong codes: the app's codes are refused for a while (kept),
    the page says so and offers the way back, and a backup code works because it is a device of its own."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    key, page = enrol(english_client(), clerk.username)
    codes = page.context["codes"]
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    attacker = english_client()
    log_in(attacker, clerk.username)
    wrong = "000000" if totp_now(key) != "000000" else "111111"
    for _attempt in range(3):
        attacker.post(OTP, {"token": wrong})

    real = english_client()
    log_in(real, clerk.username)
    refused = real.post(OTP, {"token": totp_now(key)})
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "codes from your app are refused until" in html
    assert "You can log in now with a backup code." in html
    assert "Your agency's administrator can reset your second factor" in html
    assert real.post(f"{OTP}?next=/", {"token": codes[0]}).status_code == 302
    assert real.get("/").status_code in (200, 302) and not real.get("/").url.startswith(OTP)


def test_a_session_opened_before_the_user_became_staff_is_asked_for_the_second_factor(agency):
    """Issue 10, item 4: the role is read per request, not kept in the session."""
    user = UserFactory()
    client = english_client()
    log_in(client, user.username)
    assert client.get("/notifications/").status_code == 200
    AgencyStaff.objects.create(user=user, agency=agency, role=AgencyStaff.Role.CLERK)
    response = client.get("/notifications/")
    assert response.status_code == 302 and response.url.startswith(OTP)


def test_a_deactivated_member_is_no_longer_asked(agency):
    membership = AgencyStaffFactory(agency=agency)
    client = english_client()
    log_in(client, membership.user.username)
    assert client.get("/notifications/").url.startswith(OTP)
    AgencyStaff.objects.filter(pk=membership.pk).update(active=False)
    assert client.get("/notifications/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_one_backup_code_sent_twice_at_once_opens_one_login():
    """A double-click, or a thief racing the real user: each request has its own connection, released
    together; deleting the code's row is the test, so exactly one wins (PostgreSQL)."""
    require_services()
    user = UserFactory()
    codes = backup_codes.make(user)
    barrier = threading.Barrier(2)
    results = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            device, _problem = backup_codes.use(user, codes[0])
            results.append(device is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, True]
    assert backup_codes.codes_left(user) == 9
    assert AccountEvent.objects.filter(user=user, action=AccountEvent.Action.BACKUP_CODE_USED).count() == 1
