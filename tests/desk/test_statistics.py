"""Statistics: monthly volumes and on-time rates on a small known data set, and the SVG charts."""

import datetime
from collections import Counter

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from agencies.calendar import add_working_days
from agencies.models import DeadlinePolicy, Region
from applications.cases import services
from applications.models import State
from applications.rules import deadlines
from desk import stats, svg
from tests.desk.conftest import case_in
from tests.factories import InsuredPersonFactory
from tests.world import clock_at, login, moment_in_china, new_case, put_in_state, take

pytestmark = pytest.mark.django_db


def statistics_url(agency):
    return f"/agency/{agency.pk}/statistics/"


@pytest.fixture
def known(world):
    """Six Jiujiang → Hangzhou pension cases, each walked through the workflow service at the times of
    its history around day A (80 days ago), so that their events are the service's own.

    Any number of working days n ≥ 1 puts the due date at least one calendar day after the opening, and
    15 working days never reach 59 calendar days, whatever the holidays: so +1 day is on time and +59
    days late under every deadline policy and calendar.
    """
    today = timezone.localdate()
    a = today - datetime.timedelta(days=80)
    jj, hz = world["jiujiang"], world["hangzhou"]

    def day(offset, hour=10):
        return moment_in_china(a + datetime.timedelta(days=offset), hour)

    def new(at):
        return new_case(agencies=(jj, hz), person=InsuredPersonFactory(with_login=True), at=at)

    cases = {}
    # 1: letter next day (on time), form next day (on time, Jiujiang), completed 59 days later (late).
    c = cases[1] = new(day(-1))
    take(c, "submit", at=day(0))
    take(c, "send_contact_letter", at=day(1))
    take(c, "enter_amounts", at=day(1, 15))
    take(c, "approve_amounts", at=day(2, 9))
    take(c, "send_information_form", at=day(2))
    take(c, "match_funds", at=day(60))
    take(c, "complete", at=day(61))
    # 2: letter 59 days late; the transfer-out agency refuses the next day (on time).
    c = cases[2] = put_in_state(new(day(0)), State.SUBMITTED, at=day(0))
    take(c, "send_contact_letter", at=day(59))
    take(c, "refuse_by_transfer_out", at=day(60))
    # 3: refused by the transfer-in agency the next day (on time).
    c = cases[3] = put_in_state(new(day(0)), State.SUBMITTED, at=day(0))
    take(c, "refuse_by_transfer_in", at=day(1))
    # 4: withdrawn by the applicant: not counted.
    c = cases[4] = put_in_state(new(day(0)), State.SUBMITTED, at=day(0))
    take(c, "withdraw", at=day(1))
    # 5: submitted 30 days ago and still waiting, overdue: 15 working days are past.
    thirty_days_ago = moment_in_china(today - datetime.timedelta(days=30))
    cases[5] = put_in_state(new(thirty_days_ago), State.SUBMITTED, at=thirty_days_ago)
    assert cases[5].due_date < today
    # 6: returned for correction on time and resubmitted 12 days ago, when Zhejiang promised its contact
    # letters within one working day; the sweeper flagged the case the day after that due date, and the
    # letter went out then. Zhejiang has since gone back to the national 15 days, by which the letter was
    # on time: the flag makes it late all the same.
    c = cases[6] = put_in_state(new(day(0)), State.SUBMITTED, at=day(0))
    take(c, "return_for_correction", at=day(1))
    policy = DeadlinePolicy.objects.create(
        scheme="pension",
        province=Region.objects.get(code="330000"),
        contact_letter_days=1,
        transfer_out_days=15,
        continuation_days=15,
    )
    c = take(c, "resubmit", at=moment_in_china(today - datetime.timedelta(days=12)))
    flagged_on = c.due_date + datetime.timedelta(days=1)
    with clock_at(flagged_on):
        assert services.notify_overdue(c, timezone.localdate())
    c = take(c, "send_contact_letter", at=moment_in_china(flagged_on, 11))
    policy.delete()
    assert c.due_date >= today  # the transfer-out agency's step is not overdue
    return {"a": a, "today": today, "cases": cases}


def rates_by_window(agency, today):
    return {rate.window: rate for rate in stats.on_time_rates(agency, today)}


def test_on_time_rates_of_the_transfer_in_agency(world, known):
    rates = rates_by_window(world["hangzhou"], known["today"])
    letter = rates[deadlines.CONTACT_LETTER]
    # On time: case 1, case 3 (refusal), case 6's return; late: case 2, case 6 after the overdue flag;
    # still open and overdue: case 5. Case 4 (withdrawn) does not count.
    assert (letter.on_time, letter.late, letter.open_overdue) == (3, 2, 1)
    assert letter.rate == 50.0
    continuation = rates[deadlines.CONTINUATION]
    assert (continuation.on_time, continuation.late, continuation.open_overdue) == (0, 1, 0)
    assert continuation.rate == 0.0
    # Hangzhou is transfer-in on every case: the transfer-out deadline is not its own.
    transfer_out = rates[deadlines.TRANSFER_OUT]
    assert (transfer_out.on_time, transfer_out.late, transfer_out.open_overdue) == (0, 0, 0)
    assert transfer_out.rate is None


def test_on_time_rates_of_the_transfer_out_agency(world, known):
    rates = rates_by_window(world["jiujiang"], known["today"])
    transfer_out = rates[deadlines.TRANSFER_OUT]
    # Case 1's information form and case 2's refusal, each the day after the letter.
    assert (transfer_out.on_time, transfer_out.late, transfer_out.open_overdue) == (2, 0, 0)
    assert transfer_out.rate == 100.0
    assert rates[deadlines.CONTACT_LETTER].rate is None


def test_the_due_date_is_counted_in_working_days_from_the_opening_event(world):
    """A 15-working-day window opened on Thursday 2025-09-25 ends on 2025-10-22: National Day (1-8 Oct)
    is off, and Sunday 28 Sep and Saturday 11 Oct are make-up workdays (调休). Closing on the 22nd, late
    in the evening, is on time; on the 23rd, early in the morning, late."""
    hz, jj = world["hangzhou"], world["jiujiang"]
    opened = datetime.date(2025, 9, 25)
    assert add_working_days(opened, 15) == datetime.date(2025, 10, 22)
    on_time = case_in(State.SUBMITTED, jj, hz, at=opened)
    take(on_time, "send_contact_letter", at=moment_in_china(datetime.date(2025, 10, 22), 23))
    late = case_in(State.SUBMITTED, jj, hz, at=opened)
    take(late, "send_contact_letter", at=moment_in_china(datetime.date(2025, 10, 23), 7))
    letter = rates_by_window(hz, datetime.date(2026, 3, 1))[deadlines.CONTACT_LETTER]
    assert (letter.on_time, letter.late) == (1, 1)


def test_monthly_volumes(world, known):
    a, today = known["a"], known["today"]
    volumes = {v.month: v for v in stats.monthly_volumes(world["hangzhou"], today)}
    assert len(volumes) == 12
    assert max(volumes) == today.replace(day=1)

    def month(day):
        return day.replace(day=1)

    submitted = Counter([month(a)] * 5 + [month(today - datetime.timedelta(days=30))])
    completed = Counter([month(a + datetime.timedelta(days=61))])
    refused = Counter([month(a + datetime.timedelta(days=60)), month(a + datetime.timedelta(days=1))])
    for start, volume in volumes.items():
        assert (volume.submitted, volume.completed, volume.refused) == (
            submitted[start],
            completed[start],
            refused[start],
        ), start
    # The other side sees the same cases.
    jiujiang = stats.monthly_volumes(world["jiujiang"], today)
    assert sum(v.submitted for v in jiujiang) == 6


def test_events_before_the_twelve_months_are_left_out(world):
    today = timezone.localdate()
    before = moment_in_china(stats.month_starts(today)[0] - datetime.timedelta(days=1), 23)
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], at=before)
    assert sum(v.submitted for v in stats.monthly_volumes(world["hangzhou"], today)) == 0


def test_month_starts_cross_the_new_year():
    starts = stats.month_starts(datetime.date(2026, 3, 15))
    assert starts[0] == datetime.date(2025, 4, 1)
    assert starts[-1] == datetime.date(2026, 3, 1)
    assert len(starts) == 12


def test_the_statistics_page_draws_svg_charts_with_tables(client, world, known):
    login(client, "clerk.hangzhou", language="en")
    response = client.get(statistics_url(world["hangzhou"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 2
    assert 'role="img"' in html
    assert '<title id="volumes-chart-title">Cases per month</title>' in html
    assert '<title id="on-time-chart-title">On-time rate per deadline</title>' in html
    assert "<rect" in html
    assert "50%" in html  # the contact letter bar's label
    assert "<caption>" in html and "<table" in html
    assert "50.0%" in html  # the table row
    assert "style=" not in html.split("<main", 1)[1]  # the Content-Security-Policy forbids inline styles


def test_the_statistics_page_runs_a_bounded_number_of_queries(
    client, world, known, django_assert_max_num_queries, django_assert_num_queries
):
    login(client, "clerk.hangzhou", language="en")
    url = statistics_url(world["hangzhou"])
    client.get(url)
    with django_assert_max_num_queries(20) as before:
        client.get(url)
    for n in range(20):
        case = case_in(
            State.SUBMITTED,
            world["jiujiang"],
            world["hangzhou"],
            at=known["a"] + datetime.timedelta(days=n % 7),
        )
        take(case, "send_contact_letter", at=known["a"] + datetime.timedelta(days=n % 7 + 2))
    with django_assert_num_queries(len(before.captured_queries)):
        client.get(url)


@pytest.mark.parametrize("username", ["clerk.jiujiang", "360426199101010071"])
def test_the_statistics_are_for_the_agencys_staff_only(client, world, username):
    login(client, username, language="en")
    assert client.get(statistics_url(world["hangzhou"])).status_code == 404


# The chart geometry


@pytest.mark.parametrize(
    ("largest", "expected"),
    [
        (0, (1.0, 0.25)),
        (1, (1.0, 1.0)),
        (3, (3.0, 1.0)),
        (7, (8.0, 2.0)),
        (38, (40.0, 10.0)),
        (1234, (1500.0, 500.0)),
    ],
)
def test_axis_maximum_and_step_are_round_numbers(largest, expected):
    assert svg.nice_scale(largest) == expected


def test_bars_are_proportional_to_their_values():
    chart = svg.bar_chart(
        chart_id="c", title="t", description="d", categories=["a", "b"],
        series=[svg.Series("s", [10, 5]), svg.Series("u", [None, 0])],
    )  # fmt: skip
    heights = [float(bar.height) for bar in chart.bars]
    assert len(chart.bars) == 3  # no bar for "no data"
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[2] == 0
    assert [tick.label for tick in chart.ticks] == ["0", "5", "10"]


def test_labels_in_the_svg_are_escaped():
    chart = svg.bar_chart(
        chart_id="c", title="<b>t</b>", description="d", categories=["<script>x</script>"],
        series=[svg.Series('"><img src=x>', [1])],
    )  # fmt: skip
    html = render_to_string("agencies/_bar_chart.html", {"chart": chart})
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
