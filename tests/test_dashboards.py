"""The home page per role with its charts (issue 9): each role's sections,
the charts drawn as accessible SVG with a table of the same numbers, every
number equal to the rows of the list it links to under the same access rules
(S-12), and a number of queries that does not grow with the data (STYLE 12)."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from breaches.models import Breach
from breaches.templatetags.breaches_charts import breach_month_data
from consent.models import ConsentAnswer, ConsentCategory, Publication, PublicationPupil
from consent.services import categories_seed
from consent.templatetags.consent_dashboard import consent_coverage
from disclosures.models import Disclosure, LegalBasis, Recipient
from disclosures.templatetags.disclosures_charts import _log_filters_ready, disclosure_counts
from privacy_admin.charts import bar_chart, last_months, month_key, month_range, nice_scale
from privacy_admin.models import JobRun, Membership, User
from privacy_admin.models.org import Group, current_school_year
from privacy_admin.roles import SchoolRole
from privacy_admin.views.portal import DORMANT_DAYS, home_sections, staff_status
from retention import engine
from retention.templatetags.retention_dashboard import due_today, forecast
from students.models import Assignment, Guardian, GuardianLink, SupportNeed
from tests.conftest import make_staff
from tests.students.conftest import make_pupil

TODAY = timezone.localdate


def _body(response):
    assert response.status_code == 200
    return response.content.decode()


def _path_and_query(url):
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def _get(client, url):
    path, query = _path_and_query(url)
    return client.get(path, query)


# --- data -----------------------------------------------------------------------------


def _answer(pupil, category, guardian, value):
    return ConsentAnswer.objects.create(
        pupil=pupil,
        category=category,
        guardian=guardian,
        value=value,
        version=category.current_version(),
        channel=ConsentAnswer.Channel.PAPER,
        at=timezone.now(),
    )


def _pupil_with_parent(school, group, index, answers=None):
    """A pupil with one parent with authority; `answers`: {category: value}."""
    pupil = make_pupil(school, group, first=f"Kind{index}", last="Teller")
    parent = Guardian.objects.create(last_name=f"Ouder{index}")
    GuardianLink.objects.create(pupil=pupil, guardian=parent, has_authority=True)
    for category, value in (answers or {}).items():
        _answer(pupil, category, parent, value)
    return pupil


def _breach(foundation, school, reporter, aware_at, **fields):
    return Breach.objects.create(
        foundation=foundation,
        school=school,
        reporter=reporter,
        aware_at=aware_at,
        what_happened="Lijst bij de verkeerde ouder",
        data_concerned="Groepslijst",
        **fields,
    )


def _recipient(foundation):
    return Recipient.objects.create(
        foundation=foundation,
        name="Inspectie",
        kind=Recipient.Kind.MANDATORY,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        purpose="Toezicht",
    )


def _disclosure(school, recipient, user, basis, disclosed_at, *, restricted=False, status=Disclosure.Status.DISCLOSED):
    return Disclosure.objects.create(
        school=school,
        recipient=recipient,
        kind=Disclosure.Kind.INSPECTIE,
        legal_basis=basis,
        purpose="Toezicht",
        method=Disclosure.Method.PDF,
        status=status,
        requested_by=user,
        requested_at=disclosed_at,
        disclosed_at=disclosed_at if status == Disclosure.Status.DISCLOSED else None,
        restricted=restricted,
    )


def _leaver(school, left_on, index, *, destination="regular", substantive=True):
    pupil = make_pupil(school, None, first=f"Weg{index}", last="Vertrokken")
    pupil.enrolment.left_on = left_on
    pupil.enrolment.destination = destination
    pupil.enrolment.save(update_fields=["left_on", "destination"])
    if substantive:
        SupportNeed.objects.create(pupil=pupil, since=datetime.date(2020, 1, 1), description="Leesbegeleiding")
    return pupil


def _years_back(day, years, plus_days=0):
    try:
        back = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        back = day.replace(year=day.year - years, day=28)
    return back + datetime.timedelta(days=plus_days)


# --- the chart helper ------------------------------------------------------------------


def test_nice_scale_uses_round_steps():
    assert nice_scale(0) == (1, 1)
    assert nice_scale(3) == (3, 1)
    assert nice_scale(7) == (8, 2)
    assert nice_scale(37) == (40, 10)
    assert nice_scale(2.5) == (3, 1)


def test_months_run_across_the_year_end():
    assert month_range(2026, 11, 3) == [(2026, 11), (2026, 12), (2027, 1)]
    assert last_months(datetime.date(2026, 2, 10), 3) == [(2025, 12), (2026, 1), (2026, 2)]
    assert month_key(2026, 3) == "2026-03"


def test_stacked_bars_add_up_and_link_their_parts():
    chart = bar_chart(
        chart_id="c",
        title="Disclosures",
        description="Per month.",
        categories=[("2026-10", "Oct"), ("2026-11", "Nov")],
        series=[("a", "A"), ("b", "B")],
        values={("2026-10", "a"): 2, ("2026-11", "a"): 1, ("2026-11", "b"): 3},
        links={("2026-11", "b"): "/list?b", ("2026-11", None): "/list"},
    )
    october, november = chart.bars
    assert [s.value for s in november.segments] == [1, 3] and november.total == 4
    # Parts stack from the axis upwards, each as high as its share of the scale.
    lower, upper = november.segments
    assert upper.y + upper.height == pytest.approx(lower.y, abs=0.2)
    assert lower.y + lower.height == pytest.approx(chart.plot_bottom, abs=0.2)
    assert upper.height == pytest.approx(3 * lower.height, abs=0.2)
    assert upper.href == "/list?b" and lower.href == "/list"
    assert [c.text for c in chart.rows[1].cells] == ["1", "3"] and chart.rows[1].total.href == "/list"
    assert "Total 6" in chart.summary and "Nov" in chart.summary


def test_percent_bars_fill_the_width_and_keep_counts_in_the_table():
    chart = bar_chart(
        chart_id="p",
        title="Consent",
        description="Shares.",
        categories=[("web", "Website")],
        series=[("yes", "Yes"), ("no", "No")],
        values={("web", "yes"): 1, ("web", "no"): 3},
        horizontal=True,
        percent=True,
    )
    (bar,) = chart.bars
    assert sum(s.width for s in bar.segments) == pytest.approx(chart.plot_right - chart.plot_left, abs=0.3)
    assert [c.text for c in chart.rows[0].cells] == ["1 (25\u00a0%)", "3 (75\u00a0%)"]
    assert chart.ticks[-1].label == "100\u00a0%"


def test_chart_template_is_accessible_svg_with_a_table_and_no_script():
    """WCAG 1.1.1, 1.3.1: role=img named by its title and description, a
    legend in words, the same numbers in a table, no JavaScript; coordinates
    stay unlocalised under Dutch (a decimal comma would break the SVG)."""
    chart = bar_chart(
        chart_id="chart-x",
        title="Incidents",
        description="Per month.",
        categories=[("m1", "Jan"), ("m2", "Feb"), ("m3", "Mar")],
        series=[("open", "Open"), ("closed", "Closed")],
        values={("m1", "open"): 1, ("m2", "closed"): 2, ("m3", "open"): 1},
        links={("m2", "closed"): "/datalekken/?month=2026-02&state=closed"},
    )
    with translation.override("nl"):
        html = render_to_string("charts/bars.html", {"chart": chart})
    svg = re.search(r"<svg class=\"chart-svg[^>]*>", html).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">Incidents</title>' in html
    assert '<desc id="chart-x-desc">Per month.' in html
    assert "<script" not in html and "style=" not in html
    assert not re.search(r'(x|y|width|height)="\d+,\d', html)
    assert '<ul class="chart-legend"' in html and "Open</li>" in html and "Closed</li>" in html
    assert "<details" in html and '<a href="/datalekken/?month=2026-02&amp;state=closed">2</a>' in html
    assert ">Jan</text>" in html  # axis labels are visible text


# --- sections per role ----------------------------------------------------------------


def test_each_role_sees_its_sections_most_urgent_first(
    verified_client, school_a, teacher_a, director_a, app_admin_a, fg, substitute_a
):
    """U-1..U-3: FG → foundation; director → school with the inbox; admin →
    application management; teacher and substitute → groups and tasks."""
    assert home_sections(fg) == ["foundation"]
    assert home_sections(director_a) == ["director"]
    assert home_sections(app_admin_a) == ["admin"]
    assert home_sections(teacher_a) == ["teacher"]
    assert home_sections(substitute_a) == ["teacher"]
    Membership.objects.create(user=director_a, school=school_a, role=SchoolRole.TEACHER)
    Membership.objects.create(user=director_a, school=school_a, role=SchoolRole.APP_ADMIN)
    both = User.objects.get(pk=director_a.pk)
    assert home_sections(both) == ["director", "admin", "teacher"]
    body = _body(verified_client(both).get(reverse("home")))
    positions = [
        body.index(h) for h in ("Your school", 'id="inbox-heading"', "Application management", "Your groups and tasks")
    ]
    assert positions == sorted(positions)

    fg_body = _body(verified_client(fg).get(reverse("home")))
    assert "Across the foundation" in fg_body and "Open data breaches" in fg_body and "Inbox" not in fg_body
    teacher_body = _body(verified_client(teacher_a).get(reverse("home")))
    assert "Your groups and tasks" in teacher_body
    assert "Your school" not in teacher_body and "Application management" not in teacher_body


def test_teacher_sees_groups_linked_with_the_counts_of_the_group_page(
    verified_client, school_a, group5_a, teacher_a, teacher_b
):
    """S-12: a group's count is the number of pupils its group page lists."""
    for index in range(3):
        make_pupil(school_a, group5_a, first=f"Kind{index}", last="Groep")
    body = _body(verified_client(teacher_a).get(reverse("home")))
    url = reverse("group_detail", args=[group5_a.pk])
    count = int(re.search(rf'<a href="{url}" aria-label="[^"]*">(\d+)</a>', body).group(1))
    page = verified_client(teacher_a).get(url).context["page"]
    assert count == page.paginator.count == 3
    assert url not in _body(verified_client(teacher_b).get(reverse("home")))


# --- staff: second factor and dormant accounts ------------------------------------------


def test_staff_counts_match_the_filtered_staff_list(verified_client, school_a, school_b, app_admin_a):
    """S-12: each number on the admin's dashboard is the number of accounts
    the staff list shows under the same ?filter=; accounts not used for 90
    days are flagged; another school's staff are not counted."""
    long_ago = timezone.now() - datetime.timedelta(days=DORMANT_DAYS + 5)
    no_factor = User.objects.create_user(username="nofactor", password="x" * 20)
    Membership.objects.create(user=no_factor, school=school_a, role=SchoolRole.TEACHER)
    dormant = make_staff("dormant", school=school_a, role=SchoolRole.TEACHER)
    User.objects.filter(pk=dormant.pk).update(last_login=long_ago, date_joined=long_ago)
    never_used = make_staff("neverused", school=school_a, role=SchoolRole.SUPPORT)
    User.objects.filter(pk=never_used.pk).update(date_joined=long_ago)
    gone = make_staff("gone", school=school_a, role=SchoolRole.TEACHER)
    User.objects.filter(pk=gone.pk).update(is_active=False, date_joined=long_ago)
    other = make_staff("other_school", school=school_b, role=SchoolRole.TEACHER)
    User.objects.filter(pk=other.pk).update(date_joined=long_ago)

    client = verified_client(app_admin_a)
    status = staff_status(User.objects.get(pk=app_admin_a.pk))
    assert status["counts"]["no_second_factor"] == 1
    assert status["counts"]["dormant"] == 2
    assert status["counts"]["active"] == 4
    for key, url in status["links"].items():
        people = list(_get(client, url).context["people"])
        assert len(people) == status["counts"][key], key
    dormant_names = {p["user"].username for p in _get(client, status["links"]["dormant"]).context["people"]}
    assert dormant_names == {"dormant", "neverused"}

    body = _body(client.get(reverse("home")))
    assert 'id="chart-staff"' in body
    assert f'href="{reverse("staff_list")}?filter=dormant"><span class="stat">2</span>' in body

    response = client.get(reverse("staff_list"), {"filter": "bogus"})
    assert "This filter does not exist" in _body(response)
    assert len(list(response.context["people"])) == 5  # the deactivated account too


# --- breaches --------------------------------------------------------------------------


def test_breach_numbers_match_the_register_for_fg_and_director(
    verified_client, foundation, school_a, school_b, director_a, teacher_b, fg
):
    """S-12, R-BRK-2: per month and state the chart counts exactly the rows of
    the register filtered by ?month= and ?state=; a director's chart counts
    only their school's incidents, the FG's the whole foundation."""
    now = timezone.now()
    last_month = now - datetime.timedelta(days=32)
    _breach(foundation, school_a, director_a, now - datetime.timedelta(hours=3))
    _breach(
        foundation,
        school_a,
        director_a,
        last_month,
        state=Breach.State.CLOSED,
        decided_at=last_month + datetime.timedelta(hours=10),
    )
    _breach(foundation, school_b, teacher_b, now - datetime.timedelta(hours=5))
    _breach(foundation, school_b, teacher_b, last_month, state=Breach.State.DECIDED)

    this_key = month_key(timezone.localtime(now).year, timezone.localtime(now).month)
    for user, expected_total in ((fg, 4), (director_a, 2)):
        client = verified_client(user)
        body = _body(client.get(reverse("home")))
        visible = Breach.objects.all() if user == fg else Breach.objects.filter(school=school_a)
        keys, counts, _hours = breach_month_data(visible)
        assert sum(counts.values()) == expected_total
        links = set(re.findall(r'href="(/datalekken/\?[^"]+)"', body.replace("&amp;", "&")))
        assert links
        # The months with incidents, and one without (every link of it is 0).
        checked = {key for key, _state in counts} | {month_key(*keys[0])}
        for link in links:
            query = _path_and_query(link)[1]
            if query.get("month") not in checked:
                continue
            rows = _get(client, link).context["rows"]
            expected = sum(n for (key, state), n in counts.items() if key == query["month"])
            if "state" in query:
                expected = counts.get((query["month"], query["state"]), 0)
            assert len(rows) == expected, link
    director_body = _body(verified_client(director_a).get(reverse("home")))
    assert "School B" not in director_body
    open_url = f"{reverse('breach_register')}?school={school_a.pk}&state=open"
    assert f'href="{open_url.replace("&", "&amp;")}"><span class="stat">1</span>' in director_body
    assert len(_get(verified_client(director_a), open_url).context["rows"]) == 1
    assert this_key in director_body


def test_register_month_filter_rejects_a_bad_month(verified_client, fg):
    response = verified_client(fg).get(reverse("breach_register"), {"month": "2026-13"})
    assert "Give a month as YYYY-MM" in _body(response)


# --- consent -----------------------------------------------------------------------------


def test_consent_coverage_matches_the_group_matrix(
    verified_client, school_a, school_b, group5_a, teacher_a, director_a
):
    """S-12, R-CON-6: per category the "yes" count of a group is the number of
    pupils the group's consent matrix shows as allowed; for an objection,
    allowed is everyone who did not object. Another school's pupils never
    count."""
    categories_seed(school_a)
    categories_seed(school_b)
    cats = {c.key: c for c in ConsentCategory.objects.filter(school=school_a)}
    website, nco = cats["website"], cats["onderzoek-nco"]
    given, refused = ConsentAnswer.Value.GIVEN, ConsentAnswer.Value.REFUSED
    _pupil_with_parent(school_a, group5_a, 1, {website: given, nco: refused})
    _pupil_with_parent(school_a, group5_a, 2, {website: refused})
    _pupil_with_parent(school_a, group5_a, 3, {website: given, nco: given})
    _pupil_with_parent(school_a, group5_a, 4)
    group_b = Group.objects.create(school=school_b, school_year=current_school_year(), grade=5, name="Groep 5")
    _pupil_with_parent(school_b, group_b, 5)

    (entry,) = consent_coverage(User.objects.get(pk=teacher_a.pk), {school_a.pk})
    counts = entry["counts"]
    assert counts[(website.pk, "yes")] == 2 and counts[(website.pk, "no")] == 1
    assert counts[(website.pk, "none")] == 1
    assert counts[(nco.pk, "no")] == 1 and counts[(nco.pk, "yes")] == 1 and counts[(nco.pk, "none")] == 2

    matrix = verified_client(teacher_a).get(entry["matrix_url"]).context
    headers = {h["label"]: h["allowed"] for h in matrix["headers"]}
    assert matrix["pupil_count"] == entry["pupils"] == 4
    assert headers[website.label("en")] == counts[(website.pk, "yes")]
    assert headers[nco.label("en")] == counts[(nco.pk, "yes")] + counts[(nco.pk, "none")]

    for user in (teacher_a, director_a):
        body = _body(verified_client(user).get(reverse("home")))
        assert f'id="chart-consent-{group5_a.pk}"' in body
        assert f'id="chart-consent-{group_b.pk}"' not in body
        assert f'<a href="{entry["matrix_url"]}">2 (50\u00a0%)</a>' in body


def test_teacher_sees_publications_to_take_down(verified_client, school_a, group5_a, teacher_a):
    """R-CON-4: a live publication showing a pupil whose parents refused is an
    open task on the teacher's home page."""
    categories_seed(school_a)
    parro = ConsentCategory.objects.get(school=school_a, key="parro")
    pupil = _pupil_with_parent(school_a, group5_a, 1, {parro: ConsentAnswer.Value.REFUSED})
    publication = Publication.objects.create(
        school=school_a,
        channel=parro,
        date=TODAY(),
        description="Schoolreisje",
        status=Publication.Status.PUBLISHED,
        created_by=teacher_a,
        published_at=timezone.now(),
    )
    PublicationPupil.objects.create(publication=publication, pupil=pupil)
    body = _body(verified_client(teacher_a).get(reverse("home")))
    assert "Publications to take down" in body
    assert f'href="{reverse("publication_detail", args=[publication.pk])}">Schoolreisje</a>' in body


# --- grants ------------------------------------------------------------------------------


def test_assignments_ending_within_14_days(verified_client, school_a, school_b, group5_a, director_a, substitute_a):
    """R-ACC-2: the director sees the assignments of temporary teachers ending
    within 14 days, of their own school only; the substitute sees their own."""
    today = TODAY()
    Assignment.objects.create(
        user=substitute_a,
        school=school_a,
        group=group5_a,
        record_types=["attendance"],
        valid_from=today,
        valid_until=today + datetime.timedelta(days=10),
    )
    Assignment.objects.create(
        user=substitute_a,
        school=school_a,
        group=group5_a,
        record_types=["progress"],
        valid_from=today,
        valid_until=today + datetime.timedelta(days=30),
    )
    other = make_staff("sub_b", school=school_b, role=SchoolRole.TEMP_TEACHER)
    Assignment.objects.create(
        user=other,
        school=school_b,
        record_types=["attendance"],
        valid_from=today,
        valid_until=today + datetime.timedelta(days=5),
    )
    response = verified_client(director_a).get(reverse("home"))
    body = _body(response)
    assert "Assignments of temporary teachers ending within 14 days" in body
    assert "Substitute_A" in body and "Sub_B" not in body
    section = body[body.index('id="assignments-ending-heading"') : body.index("All assignments: extend or end one")]
    assert section.count("<tr><td>") == 1  # not the one ending in 30 days

    own = _body(verified_client(substitute_a).get(reverse("home")))
    assert "Your access that ends within 14 days" in own
    assert f'<a href="{reverse("group_detail", args=[group5_a.pk])}">Groep 5</a>' in own


def test_director_pupil_count_matches_the_pupil_search(verified_client, school_a, school_b, group5_a, director_a):
    """S-12: the number of pupil dossiers is the number the pupil search lists."""
    for index in range(3):
        make_pupil(school_a, group5_a, first=f"Kind{index}", last="Telling")
    make_pupil(school_b, None, first="Ander", last="School")
    client = verified_client(director_a)
    body = _body(client.get(reverse("home")))
    match = re.search(rf'<a href="{reverse("pupil_search")}"><span class="stat">(\d+)</span>', body)
    assert match and int(match.group(1)) == 3
    assert client.get(reverse("pupil_search")).context["page"].paginator.count == 3


# --- disclosures -------------------------------------------------------------------------


def test_disclosure_chart_per_month_by_legal_basis(
    verified_client, foundation, school_a, school_b, director_a, teacher_a, fg, app_admin_a
):
    """R-DIS-7, S-12: the director counts the school's disclosures, restricted
    ones included (they may open them); never another school's; the FG counts
    the foundation's disclosures it may read; a teacher sees no chart."""
    recipient = _recipient(foundation)
    now = timezone.now()
    _disclosure(school_a, recipient, director_a, LegalBasis.LEGAL_OBLIGATION, now)
    _disclosure(school_a, recipient, director_a, LegalBasis.VITAL_INTEREST, now, restricted=True)
    _disclosure(school_a, recipient, director_a, LegalBasis.CONSENT, now, status=Disclosure.Status.PENDING)
    _disclosure(school_b, recipient, director_a, LegalBasis.CONSENT, now)
    key = month_key(timezone.localtime(now).year, timezone.localtime(now).month)
    from disclosures.policy import visible_disclosures

    director = User.objects.get(pk=director_a.pk)
    _months, counts = disclosure_counts(visible_disclosures(director).filter(school=school_a))
    assert counts == {(key, LegalBasis.LEGAL_OBLIGATION): 1, (key, LegalBasis.VITAL_INTEREST): 1}
    director_body = _body(verified_client(director_a).get(reverse("home")))
    assert 'id="chart-disclosures-school"' in director_body
    fg_user = User.objects.get(pk=fg.pk)
    _months, fg_counts = disclosure_counts(visible_disclosures(fg_user))
    assert sum(fg_counts.values()) == 2  # school A's open one and school B's; not the restricted one
    assert 'id="chart-disclosures-foundation"' in _body(verified_client(fg).get(reverse("home")))
    assert _log_filters_ready()
    client = verified_client(director_a)
    for (month, basis), count in counts.items():
        url = f"{reverse('disclosure_list')}?school={school_a.pk}&status=disclosed&month={month}&legal_basis={basis}"
        assert url.replace("&", "&amp;") in director_body
        assert _get(client, url).context["page"].paginator.count == count
    assert "chart-disclosures" not in _body(verified_client(teacher_a).get(reverse("home")))
    assert "chart-disclosures" not in _body(verified_client(app_admin_a).get(reverse("home")))


# --- retention ---------------------------------------------------------------------------


def _retention_links_exist():
    try:
        reverse("retention_due_pupils", args=[1, "substantive"])
    except NoReverseMatch:
        return False
    return True


def test_due_today_matches_the_engine_and_the_retention_list(verified_client, school_a, school_b, app_admin_a):
    """U-3, S-12: the admin's counts per category are retention.engine.due()
    of their own school, and each links to the list of exactly those pupils."""
    today = TODAY()
    _leaver(school_a, _years_back(today, 3), 1)
    _leaver(school_a, _years_back(today, 3), 2)
    _leaver(school_a, _years_back(today, 1), 3)
    _leaver(school_b, _years_back(today, 3), 4)
    (entry,) = due_today(User.objects.get(pk=app_admin_a.pk))
    report = engine.due(today, school=school_a)
    rows = {row["category"]: row for row in entry["rows"]}
    assert rows["substantive"]["due"] == len(report.pupils["substantive"]) == 2
    if _retention_links_exist():
        listed = _get(verified_client(app_admin_a), rows["substantive"]["url"]).context["rows"]
        assert len([r for r in listed if not r["held"]]) == 2
    body = _body(verified_client(app_admin_a).get(reverse("home")))
    assert "Due for deletion today at School A" in body and "School B" not in body


def test_forecast_counts_pupils_in_the_month_their_data_falls_due(verified_client, school_a, app_admin_a, director_a):
    """R-RET-4, R-RET-5: a pupil who left two years ago less 40 days has the
    substantive part due in about 40 days: counted in that month, in the
    month the retention list shows as its due date; special education adds a
    year; a pupil without substantive records is not counted for it."""
    today = TODAY()
    regular = _leaver(school_a, _years_back(today, 2, plus_days=40), 1)
    _leaver(school_a, _years_back(today, 3, plus_days=70), 2, destination="special")
    _leaver(school_a, _years_back(today, 2, plus_days=40), 3, substantive=False)
    rules = {(r.category, r.condition): r for r in engine.RetentionRule.objects.all()}
    due_regular = engine.due_dates(regular.enrolment.left_on, False, rules)["substantive"]
    _months, _categories, counts = forecast({school_a.pk}, today)
    key = month_key(due_regular.year, due_regular.month)
    special_due = engine.due_dates(_years_back(today, 3, plus_days=70), True, rules)["substantive"]
    special_key = month_key(special_due.year, special_due.month)
    if key == special_key:
        assert counts[(school_a.pk, key, "substantive")] == 2
    else:
        assert counts[(school_a.pk, key, "substantive")] == 1
        assert counts[(school_a.pk, special_key, "substantive")] == 1
    assert sum(n for (s, _k, c), n in counts.items() if c == "substantive") == 2

    client = verified_client(app_admin_a)
    body = _body(client.get(reverse("home"))).replace("&amp;", "&")
    assert f'id="chart-retention-{school_a.pk}"' in body
    if _retention_links_exist():
        link = re.search(rf'href="([^"]*/categorie/substantive/\?as_of={due_regular:%Y-%m}-\d\d)"', body).group(1)
        listed = _get(client, link).context["rows"]
        in_month = [r for r in listed if f"{r['due_on']:%Y-%m}" == f"{due_regular:%Y-%m}"]
        assert len(in_month) == counts[(school_a.pk, key, "substantive")]
    # S-12: the director may not open the list behind these numbers (the
    # retention screen is the application admin's), so gets no forecast.
    director_body = _body(verified_client(director_a).get(reverse("home")))
    assert f'id="chart-retention-{school_a.pk}"' not in director_body
    assert "/categorie/substantive/" not in director_body


# --- jobs ----------------------------------------------------------------------------------


def test_failed_job_runs_come_first_and_are_marked(verified_client, app_admin_a):
    now = timezone.now()
    JobRun.objects.create(name="audit_anchor", started_at=now, outcome=JobRun.Outcome.OK)
    JobRun.objects.create(
        name="retention_nightly", started_at=now - datetime.timedelta(hours=5), outcome=JobRun.Outcome.OK
    )
    JobRun.objects.create(
        name="retention_nightly", started_at=now, outcome=JobRun.Outcome.FAILED, error="OperationalError"
    )
    body = _body(verified_client(app_admin_a).get(reverse("home")))
    jobs = body[body.index('id="jobs-heading"') :]
    assert jobs.index("retention_nightly") < jobs.index("audit_anchor")
    assert '<tr class="failed"><td>retention_nightly</td>' in jobs and "OperationalError" in jobs
    assert jobs.count("retention_nightly") == 1


# --- bounded queries -------------------------------------------------------------------


def _grow(foundation, school, group, count, *, start, reporter, recipient, categories):
    today = TODAY()
    now = timezone.now()
    for index in range(start, start + count):
        answers = {c: ConsentAnswer.Value.GIVEN for c in categories[: index % 3]}
        _pupil_with_parent(school, group, index, answers)
        _breach(foundation, school, reporter, now - datetime.timedelta(days=index % 200, hours=1))
        _disclosure(school, recipient, reporter, LegalBasis.LEGAL_OBLIGATION, now - datetime.timedelta(days=index))
        _leaver(school, _years_back(today, 2, plus_days=index * 7), index)
        JobRun.objects.create(name=f"job-{index % 4}", started_at=now, outcome=JobRun.Outcome.OK)
        make_staff(f"staff{index}", school=school, role=SchoolRole.TEACHER)


@pytest.mark.parametrize("role", ["teacher_a", "director_a", "app_admin_a", "fg"])
def test_home_page_queries_do_not_grow_with_the_data(request, verified_client, foundation, school_a, group5_a, role):
    """STYLE 12, issue 9 item 4: each role's home page makes the same number
    of queries with 3 and with 30 pupils, breaches, disclosures and leavers."""
    user = request.getfixturevalue(role)
    reporter = request.getfixturevalue("director_a")
    categories_seed(school_a)
    categories = list(ConsentCategory.objects.filter(school=school_a))
    recipient = _recipient(foundation)
    client = verified_client(user)
    grow = dict(reporter=reporter, recipient=recipient, categories=categories)
    _grow(foundation, school_a, group5_a, 3, start=0, **grow)
    client.get(reverse("home"))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        _body(client.get(reverse("home")))
    _grow(foundation, school_a, group5_a, 27, start=3, **grow)
    with CaptureQueriesContext(connection) as large:
        body = _body(client.get(reverse("home")))
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    assert 'role="img"' in body
