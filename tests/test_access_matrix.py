"""Least privilege, proven: every URL of the project against every persona, from one declared table.

The table is ``tests/access_rules.py``; the fixture and the URL walk are ``tests/access_world.py``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.access_rules import (
    COUNTERPART,
    EMPTY_SEARCH,
    INSURER,
    MISSING,
    OUTSIDERS,
    PERSONAS,
    PRIVACY,
    RULES,
    SKIPPED,
    SUPERUSER,
    Ref,
    Rule,
)
from tests.access_world import (
    Answer,
    ask,
    endpoints,
    login_url,
    rule_id,
    rules_for,
    skip_reason,
    world_for_module,
)

ENDPOINTS = endpoints()
WALKED = [e for e in ENDPOINTS if skip_reason(e) is None]
DENIED = {401, 403, 404}
SESSIONLESS = {p.name for p in (*PERSONAS, *OUTSIDERS) if not p.has_session}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        yield built


def _area(path: str) -> str:
    return urlsplit(path).path.strip("/").split("/", 1)[0]


def _to_login(answer: Answer) -> bool:
    return answer.status == 302 and urlsplit(answer.location).path == login_url()


def _got_through(answer: Answer, url: str, rule: Rule) -> str | None:
    """None when the persona got through; else what went wrong."""
    if answer.status >= 500:
        return f"{answer.status} {answer.error}"
    if rule.post is not None:
        refused = answer.status in DENIED or answer.status == 405 or _to_login(answer)
        return str(answer.status) if refused else None
    if 200 <= answer.status < 300:
        return None
    if answer.status in (301, 302, 303, 307, 308) and not _to_login(answer):
        if _area(answer.location) == _area(url):
            return None
        return f"{answer.status} to {answer.location} (another area)"
    return f"{answer.status}{' to ' + answer.location if answer.location else ''}"


def _refused(answer: Answer, persona: str, rule: Rule) -> bool:
    if answer.status in DENIED:
        return True
    if rule.post is not None and answer.status == 405:
        return True
    return persona in SESSIONLESS and _to_login(answer)


def _check(rule: Rule, world, made) -> list[str]:
    url = world.url(rule)
    problems = []
    for persona in PERSONAS:
        answer = ask(made[persona.name], world, rule)
        if persona.name in rule.allow:
            wrong = _got_through(answer, url, rule)
            if wrong:
                problems.append(f"{persona.name}: expected allowed, got {wrong}")
        elif not _refused(answer, persona.name, rule):
            got = f"{answer.status} {answer.location or answer.error}".strip()
            problems.append(f"{persona.name}: expected denied, got {got}")
    if rule.object_level:
        for persona in OUTSIDERS:
            answer = ask(made[persona.name], world, rule)
            same_role_allowed = any(COUNTERPART.get(a) == persona.name for a in rule.allow)
            if same_role_allowed and rule.outsiders == EMPTY_SEARCH:
                if answer.status != 200 or json.loads(answer.body).get("entry"):
                    problems.append(f"{persona.name}: expected an empty search result")
            elif same_role_allowed and answer.status != 404:
                problems.append(
                    f"{persona.name}: expected 404 (other organisation), got {answer.status}"
                )
            elif not _refused(answer, persona.name, rule):
                problems.append(f"{persona.name}: expected denied, got {answer.status}")
    return [f"{rule.name} {url}: {p}" for p in problems]


def test_every_url_pattern_has_an_access_rule_or_a_reason_to_skip():
    missing = [
        f"no access rule for {endpoint}" for endpoint in WALKED if not rules_for(endpoint, RULES)
    ]
    assert not missing, "\n".join(missing)


def test_every_access_rule_belongs_to_a_url_pattern():
    shapes = {(e.key, e.params) for e in WALKED}
    stale = [
        f"access rule for {rule.name} {sorted(rule.kwargs)}, but no such URL pattern"
        for rule in RULES
        if (rule.name, frozenset(rule.kwargs)) not in shapes
    ]
    stale += [
        f"skip reason for {name}, but no such URL pattern"
        for name in SKIPPED
        if not any(e.key == name or f"{e.namespace}:*" == name for e in ENDPOINTS)
    ]
    assert not stale, "\n".join(stale)


@pytest.mark.parametrize("endpoint", WALKED, ids=str)
def test_access_matches_the_declared_table(endpoint, world, db):
    rules = rules_for(endpoint, RULES)
    if not rules:
        pytest.fail(f"no access rule for {endpoint}", pytrace=False)
    problems = [problem for rule in rules for problem in _check(rule, world, world.clients)]
    assert not problems, "\n".join(problems)


OBJECT_RULES = [(e, r) for e in WALKED for r in rules_for(e, RULES) if r.object_level]


def _twin(rule: Rule) -> Rule:
    """The same request about an object that does not exist."""

    def missing(v):
        return dataclasses.replace(MISSING, field=v.field) if isinstance(v, Ref) else v

    kwargs = {k: missing(v) for k, v in rule.kwargs.items()}
    query = {k: missing(v) for k, v in rule.query.items()}
    return dataclasses.replace(rule, kwargs=kwargs, query=query)


def _shape(answer: Answer, world, rule: Rule) -> tuple:
    location = answer.location
    for ref in (v for v in (*rule.kwargs.values(), *rule.query.values()) if isinstance(v, Ref)):
        location = re.sub(
            rf"(?<=[/=]){re.escape(str(world.value(ref)))}(?=[/?.&]|$)", "<id>", location
        )
    return answer.status, location


# Who must not even learn that an object exists: the other organisations, and the roles that see
# no patient objects at all.
STRANGERS = [*OUTSIDERS, *(p for p in PERSONAS if p.name in {PRIVACY, SUPERUSER, INSURER})]


@pytest.mark.parametrize(
    ("endpoint", "rule"), OBJECT_RULES, ids=[rule_id(*er) for er in OBJECT_RULES]
)
def test_objects_out_of_reach_look_like_objects_that_do_not_exist(endpoint, rule, world, db):
    """Someone without any access to an object cannot tell it from a missing one, not even with an
    empty POST that fails validation."""
    problems = []
    variants = [rule]
    if rule.post:
        variants.append(dataclasses.replace(rule, post={}))
    for variant in variants:
        missing = _twin(variant)
        for persona in STRANGERS:
            if persona.name in rule.allow:
                continue
            client = world.clients[persona.name]
            real = _shape(ask(client, world, variant), world, variant)
            absent = _shape(ask(client, world, missing), world, missing)
            if real != absent:
                body = (
                    "empty body" if variant.post == {} else "form body" if variant.post else "GET"
                )
                problems.append(
                    f"{persona.name} ({body}): {real[0]} {real[1]} for the real object, "
                    f"{absent[0]} {absent[1]} for a missing one"
                )
    assert not problems, f"{world.url(rule)}:\n" + "\n".join(problems)


def test_admin_refuses_people_without_staff_status(world, db):
    """The admin is skipped above; here: its pages send everyone but staff to the admin login."""
    made = world.clients
    admin_login = reverse("admin:login")
    pages = [
        reverse("admin:index"),
        reverse("admin:carechain_patient_changelist"),
        reverse("admin:audit_auditevent_changelist"),
        reverse("admin:carechain_patient_change", args=[world.pk("patient")]),
    ]
    for path in pages:
        for persona in PERSONAS:
            response = made[persona.name].get(path)
            if persona.name == SUPERUSER:
                assert response.status_code == 200, path
            else:
                assert response.status_code == 302, (persona.name, path)
                assert urlsplit(response["Location"]).path == admin_login, (persona.name, path)
