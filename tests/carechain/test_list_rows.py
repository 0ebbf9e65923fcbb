"""The list tags write, from plain values, the HTML the caseload's and worklist's template loops
wrote, escaped the same way; ``since`` reads as Django's ``timesince``."""

import datetime
import random

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.timesince import timesince

from carechain.rows import dmy, since

# The rows as the templates printed them before the tags (templates of 2026-12-02).
CASELOAD_LOOP = """{% load i18n %}{% for row in rows %}
<tr class="{% if row.overdue %}overdue{% endif %}">
  <td><a href="{{ row.url }}">{{ row.patient }}</a><br><small class="muted">{{ row.birth_date }}</small></td>
  <td>{{ row.practice }}{% if row.ketenzorg %} <span class="badge">{% translate "ketenzorg" %}</span>{% endif %}</td>
  <td><span class="badge tstate-{{ row.state }}">{{ row.state_label }}</span></td>
  <td>{{ row.days_in_state }}</td>
  <td>{{ row.latest_status|default:"–" }}</td>
  <td>{{ row.action_label }}</td>
  <td>{{ row.due|default:"–" }}{% if row.overdue %} <span class="badge warn">{% translate "overdue" %}</span>{% endif %}</td>
  {% if is_planner %}<td>{{ row.coach|default:"–" }}</td>{% endif %}
</tr>
{% empty %}<tr><td colspan="8" class="muted">{% translate "No trajectories." %}</td></tr>{% endfor %}"""
WORKLIST_LOOP = """{% load i18n %}{% for row in rows %}
<tr class="{% if row.overdue %}overdue{% endif %}">
  <td>{{ row.received }}<br><small class="muted">{{ row.received_since }}</small></td>
  <td><a href="{{ row.url }}">{{ row.patient }}</a></td>
  <td>{{ row.practice }}</td>
  <td>{{ row.channel }}{% if row.ketenzorg %} <span class="badge">{% translate "ketenzorg" %}</span>{% endif %}</td>
  <td>{{ row.best_time_to_call }}{% if row.call_note %}<br><small class="muted">{{ row.call_note }}</small>{% endif %}</td>
  <td><span class="badge state-{{ row.state }}">{{ row.state_label }}</span>
</td>
  <td>{{ row.coach|default:"–" }}</td>
  <td>{{ row.first_contact_due }}{% if row.overdue %} <span class="badge warn">{% translate "overdue" %}</span>{% endif %}</td>
  <td>{{ row.failed_attempts }}</td>
</tr>
{% empty %}<tr><td colspan="9" class="muted">{% translate "No referrals waiting." %}</td></tr>
{% endfor %}"""
OPTIONS_LOOP = (
    '{% for value, label in choices %}<option value="{{ value }}"{% if value == selected %}'
    " selected{% endif %}>{{ label }}</option>{% endfor %}"
)

HOSTILE = "<b>Jan</b> & 'Piet' \"de\" Vries"


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def _caseload_rows():
    base = {
        "url": "/trajectories/7/",
        "patient": HOSTILE,
        "birth_date": "01-02-1960",
        "practice": "Praktijk <A>",
        "ketenzorg": True,
        "state": "counselling",
        "state_label": "in begeleiding",
        "days_in_state": 1234,
        "latest_status": "rookvrij",
        "action_label": "volgend contact",
        "due": "03-12-2026",
        "overdue": True,
        "coach": "Anna & Co",
    }
    return [
        base,
        {**base, "ketenzorg": False, "overdue": False, "latest_status": "", "due": "", "coach": ""},
        {**base, "days_in_state": 0, "patient": "", "state": "intake_planned"},
    ]


def _worklist_rows():
    base = {
        "received": "20-11-2026",
        "received_since": "1\xa0week, 3\xa0dagen",
        "url": "/referrals/9/",
        "patient": HOSTILE,
        "practice": "Praktijk <B>",
        "channel": "ZorgDomein",
        "ketenzorg": True,
        "best_time_to_call": "'s ochtends",
        "call_note": 'niet op <woensdag> & "vrijdag"',
        "state": "received",
        "state_label": "ontvangen",
        "coach": "",
        "first_contact_due": "24-11-2026",
        "overdue": True,
        "failed_attempts": 2,
    }
    return [base, {**base, "ketenzorg": False, "call_note": "", "coach": "Bob", "overdue": False}]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("is_planner", [True, False])
def test_caseload_rows_are_the_html_the_template_wrote(language, is_planner):
    rows = _caseload_rows()
    with translation.override(language):
        expected = _render(CASELOAD_LOOP, rows=rows, is_planner=is_planner)
        written = _render(
            "{% load caseload_tags %}{% caseload_table_rows rows is_planner %}",
            rows=rows,
            is_planner=is_planner,
        )
    assert written == expected
    assert (
        "<b>Jan</b>" not in written and "&lt;b&gt;Jan&lt;/b&gt; &amp; &#x27;Piet&#x27;" in written
    )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_worklist_rows_are_the_html_the_template_wrote(language):
    rows = _worklist_rows()
    with translation.override(language):
        expected = _render(WORKLIST_LOOP, rows=rows)
        written = _render("{% load worklist_tags %}{% worklist_table_rows rows %}", rows=rows)
    assert written == expected
    assert "<woensdag>" not in written


def test_options_are_the_html_the_template_wrote_with_the_chosen_one_selected():
    choices = [(3, "Anna <Coach>"), (5, "Bob & 'Co'"), (8, "Chris")]
    for selected in (None, 5, 99):
        expected = _render(OPTIONS_LOOP, choices=choices, selected=selected)
        written = _render(
            "{% load list_tags %}{% options choices selected %}", choices=choices, selected=selected
        )
        assert written == expected
        assert written.count(" selected") == (1 if selected == 5 else 0)
    assert "&lt;Coach&gt;" in written


@pytest.mark.parametrize("language", ["nl", "en"])
def test_since_reads_as_timesince(language):
    now = datetime.datetime(2026, 3, 31, 9, 15, 30, tzinfo=datetime.UTC)
    rnd = random.Random(11)
    moments = [now - datetime.timedelta(seconds=s) for s in (-3600, 0, 1, 59, 60, 61, 3599)]
    moments += [
        now - datetime.timedelta(seconds=rnd.randrange(0, 4 * 365 * 86400)) for _ in range(3000)
    ]
    # Month ends and leap days, where calendar months and years are counted by hand.
    moments += [
        datetime.datetime(2024, 2, 29, 23, 59, tzinfo=datetime.UTC),
        datetime.datetime(2025, 1, 31, 9, 15, 31, tzinfo=datetime.UTC),
        datetime.datetime(2026, 2, 28, 9, 15, 30, tzinfo=datetime.UTC),
        datetime.datetime(2025, 3, 31, 9, 15, 29, tzinfo=datetime.UTC),
    ]
    with translation.override(language):
        format_since = since(now)
        assert [format_since(d) for d in moments] == [timesince(d, now) for d in moments]


def test_dmy_shows_a_moment_on_the_dutch_calendar_day():
    late = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)  # 1 January in Amsterdam
    assert dmy(late) == dmy(late, timezone.get_current_timezone()) == "01-01-2027"
    assert dmy(datetime.date(2026, 5, 4)) == "04-05-2026"
    assert dmy(None) == ""
