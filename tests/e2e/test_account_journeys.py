"""Journey 4: an insured person who forgot the password gets a link by e-mail, chooses a new password and
logs in with it. Journey 5: the Hangzhou agency administrator invites a clerk, who sets a password,
enrols by typing the Base32 key into an authenticator (pyotp, RFC 6238), logs in, uses a backup code
once (refused the second time); the administrator resets the clerk's device and deactivates the clerk,
whose open session is then refused. axe-core runs on every page."""

import re
import uuid

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import Actor

User = get_user_model()
APPLICANT = "360426199101010071"  # 张伟
NEW_PASSWORD = "Willow-harbour-2026"
CLERK_PASSWORD = "Paper-lantern-2026"


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """The reset limits count in the real cache, which outlives a run: this test counts under its own
    key prefix (the live server's thread reads the same settings)."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"e2e-{uuid.uuid4().hex}"} for name, config in settings.CACHES.items()
    }


def path_of_link(message):
    (link,) = re.findall(r"https?://\S+", message.body)
    return re.sub(r"^https?://[^/]+", "", link)


def anonymous(portal, username, journey):
    """A browser of `username` that is not logged in yet (the portal closes it at the end)."""
    actor = Actor(portal, username, journey)
    portal.actors[f"{username}-{len(portal.actors)}"] = actor
    portal.journeys.add(journey)
    return actor


def log_in(actor, password):
    actor.goto("/accounts/login/")
    actor.page.locator("input[name=username]").fill(actor.username)
    actor.page.locator("input[name=password]").fill(password)
    actor.submit("main form[method=post]")


def enter_code(actor, code):
    actor.page.locator("input[name=token]").fill(code)
    actor.submit("main form[method=post]")


def test_forgot_password_e_mail_new_password_log_in(portal):
    user = User.objects.get(username=APPLICANT)
    user.email = "zhang.wei@example.cn"
    user.save(update_fields=["email"])
    mail.outbox = []
    person = anonymous(portal, APPLICANT, "forgot-password")
    page = person.page

    person.goto("/accounts/login/")
    person.check("01-login")
    with page.expect_navigation():
        page.locator('a[href="/accounts/password/reset/"]').click()
    person.check("02-forgot-password")
    page.locator("input[name=email]").fill("Zhang.Wei@example.cn")
    person.submit("main form[method=post]")
    assert page.url.endswith("/accounts/password/reset/sent/")
    person.check("03-check-your-e-mail")

    (message,) = mail.outbox
    assert message.to == ["zhang.wei@example.cn"]
    link = path_of_link(message)
    person.goto(link)
    person.check("04-choose-a-new-password")
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    person.submit("main form[method=post]")
    assert page.url.endswith("/accounts/reset/done/")
    person.check("05-password-set")

    log_in(person, NEW_PASSWORD)
    assert page.url.endswith("/my/applications/"), page.url
    person.check("06-logged-in-with-the-new-password")

    # The link works once: opened again in another browser it says so.
    other = anonymous(portal, APPLICANT, "forgot-password")
    other.goto(link)
    expect(other.page.locator("main .alert-danger")).to_be_visible()
    other.check("07-used-link")


def test_an_invited_clerk_enrols_uses_a_backup_code_and_is_reset_and_deactivated(portal):
    admin = portal.actor("admin.hangzhou", "staff")
    assert admin.page.url.endswith("/staff/"), admin.page.url
    admin.check("01-staff-page")
    mail.outbox = []
    form = admin.page.locator('form[action$="/staff/invite/"]')
    form.locator("input[name=username]").fill("zhao.lei")
    form.locator("input[name=name]").fill("赵磊")
    form.locator("input[name=email]").fill("zhao.lei@example.cn")
    form.locator("select[name=role]").select_option("clerk")
    admin.submit('form[action$="/staff/invite/"]')
    expect(admin.page.locator("#main")).to_contain_text("zhao.lei")
    admin.check("02-invited")
    (invitation,) = mail.outbox
    link = path_of_link(invitation)

    clerk = anonymous(portal, "zhao.lei", "staff")
    page = clerk.page
    clerk.goto(link)
    clerk.check("03-invitation")
    page.locator("input[name=new_password1]").fill(CLERK_PASSWORD)
    page.locator("input[name=new_password2]").fill(CLERK_PASSWORD)
    clerk.submit("main form[method=post]")
    assert "/accounts/otp/" in page.url
    clerk.check("04-set-up-the-authenticator")
    typed_key = page.locator("#otp-key").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{4}", typed_key.strip()), typed_key
    authenticator = pyotp.TOTP(typed_key.replace(" ", ""))
    enter_code(clerk, authenticator.now())
    assert "/accounts/otp/backup-codes/" in page.url
    clerk.check("05-backup-codes")
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    with page.expect_download() as download:
        page.locator('a[href="/accounts/otp/backup-codes.txt"]').click()
    assert codes[0] in download.value.path().read_text()
    clerk.submit('form[action*="/backup-codes/kept/"]')
    assert page.url.endswith("/"), page.url
    clerk.goto("/")
    assert "/agency/" in page.url and page.url.endswith("/queue/"), page.url
    queue = page.url
    clerk.check("06-queue")

    # Another computer: the password, then a backup code; on a third, the same code is refused.
    second = anonymous(portal, "zhao.lei", "staff")
    log_in(second, CLERK_PASSWORD)
    second.check("07-second-factor")
    enter_code(second, codes[0])
    assert "/queue/" in second.page.url, second.page.url
    second.check("08-logged-in-with-a-backup-code")
    third = anonymous(portal, "zhao.lei", "staff")
    log_in(third, CLERK_PASSWORD)
    enter_code(third, codes[0])
    assert "/accounts/otp/" in third.page.url
    expect(third.page.locator("main .invalid-feedback")).to_be_visible()
    third.check("09-backup-code-refused")

    # The administrator resets the device: the open sessions end; the next login enrols again.
    admin.goto(admin.page.url)
    member_row = admin.page.locator("tr", has_text="zhao.lei")
    with admin.page.expect_navigation():
        member_row.locator('form[action$="/second-factor/reset/"] button').click()
    admin.check("10-device-reset")
    clerk.goto(queue)
    assert "/accounts/login/" in page.url, page.url
    log_in(clerk, CLERK_PASSWORD)
    assert "/accounts/otp/" in page.url
    new_key = page.locator("#otp-key").inner_text().replace(" ", "")
    assert new_key != typed_key.replace(" ", "")
    clerk.check("11-enrol-again")
    enter_code(clerk, pyotp.TOTP(new_key).now())
    clerk.submit('form[action*="/backup-codes/kept/"]')
    clerk.goto("/")
    assert "/queue/" in page.url

    # Deactivated: the clerk's open session is refused at once, and logging in fails.
    admin.goto(admin.page.url)
    member_row = admin.page.locator("tr", has_text="zhao.lei")
    member_row.locator("summary").click()
    with admin.page.expect_navigation():
        member_row.locator('form[action$="/deactivate/"] button').click()
    expect(admin.page.locator("tr", has_text="zhao.lei")).to_contain_text("已停用")
    admin.check("12-deactivated")
    response = page.goto(page.url)
    assert response.ok and "/accounts/login/" in page.url, page.url
    log_in(clerk, CLERK_PASSWORD)
    assert "/accounts/login/" in page.url
    expect(page.locator("main .alert-danger, main .invalid-feedback, main .errorlist").first).to_be_visible()
    clerk.check("13-refused")
