"""Every detail text the code writes into the audit log reads as Dutch for the privacy officer.

The test reads the source of every app (``ast``) for the texts passed to the audit log (the
``detail`` of ``audit_record``, ``Touch`` and the helpers that call them), fills each f-string's
placeholders with sample values and checks that ``audit.details`` knows the result and that the
Dutch catalogue translates it. A new audited action whose detail nobody added to the catalogue
fails here, instead of showing up in English on the privacy officer's page.
"""

import ast
import itertools
from pathlib import Path

import pytest
from django.utils import translation

from audit.details import readable, recognised

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "accounts",
    "audit",
    "billing",
    "campaigns",
    "carechain",
    "pathways",
    "referrals",
    "reminders",
    "reports",
]
# Functions that write an audit row, and the position of their detail argument.
AUDIT_CALLS = {
    "audit_record": None,
    "audit_record_rows": None,
    "audit_record_page": None,
    "Touch": 2,
    "_fail": 1,
    "_log": 2,
}
# What a placeholder may hold: a number or id first (most texts), then the values the code
# composes details from (a second factor's kind, the provider report's scope, an API key).
SAMPLES = [
    "1",
    "authenticator app",
    "recovery code",
    " own caseload",
    "",
    "hash chain check",
    "API key Ab12Cd34 (claims) of Zorgverzekeraar A",
    "revoked",
    "changed: name",
]
# Texts composed in steps the reader above does not follow (``detail += ...``).
COMPOSED = ["second factor passed: recovery code (9 left)"]
# Words that are the same in Dutch.
SAME_IN_DUTCH = {"caseload"}


def _texts(node) -> list[list[str | None]]:
    """The text as parts: strings, and None for a placeholder; several for a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [[node.value]]
    if isinstance(node, ast.JoinedStr):
        options: list[list[str | None]] = [[]]
        for value in node.values:
            if isinstance(value, ast.Constant):
                options = [o + [value.value] for o in options]
            elif isinstance(value.value, ast.IfExp) and _texts(value.value):
                options = [o + t for o in options for t in _texts(value.value)]
            else:
                options = [o + [None] for o in options]
        return options
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        right = _texts(node.right) or [[None]]
        return [left + r for left in _texts(node.left) for r in right]
    if isinstance(node, ast.Subscript):  # f"..."[:300]
        return _texts(node.value)
    return []


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _details_in(tree) -> list[tuple[list[str | None], int]]:
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        calls = [
            n
            for n in ast.walk(function)
            if isinstance(n, ast.Call) and _call_name(n) in AUDIT_CALLS
        ]
        if not calls:
            continue
        for call in calls:
            position = AUDIT_CALLS[_call_name(call)]
            for keyword in call.keywords:
                if keyword.arg == "detail":
                    found += [(t, call.lineno) for t in _texts(keyword.value)]
            if position is not None and len(call.args) > position:
                found += [(t, call.lineno) for t in _texts(call.args[position])]
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "detail" for t in node.targets
            ):
                found += [(t, node.lineno) for t in _texts(node.value)]
    return found


def _written_details() -> list[tuple[list[str | None], str]]:
    out = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            where = path.relative_to(ROOT)
            out += [(parts, f"{where}:{line}") for parts, line in _details_in(tree)]
    return out


def _samples(parts: list[str | None]):
    holes = sum(1 for p in parts if p is None)
    for values in itertools.product(SAMPLES, repeat=holes):
        it = iter(values)
        yield "".join(p if p is not None else next(it) for p in parts)


def _known(parts) -> str | None:
    """The first sample of the text the catalogue knows, else None."""
    return next((s for s in _samples(parts) if recognised(s)), None)


def test_the_reader_finds_the_texts_the_code_writes():
    texts = {"".join(p or "{}" for p in parts) for parts, _ in _written_details()}
    # A few the test knows are written, so that a reader finding nothing cannot pass.
    assert {"caseload", "FHIR Task", "feedback letter {}", "invoice paid"} <= texts
    assert len(texts) > 60


def test_every_detail_the_code_writes_is_in_the_catalogue():
    unknown = sorted(
        {
            f"{where}: {''.join(p or '{}' for p in parts)!r}"
            for parts, where in _written_details()
            if _known(parts) is None
        }
    )
    assert unknown == [], "audit details missing from audit/details.py:\n" + "\n".join(unknown)


@pytest.mark.parametrize("composed", COMPOSED)
def test_composed_details_are_in_the_catalogue(composed):
    assert recognised(composed)


def test_every_detail_reads_as_dutch():
    english = []
    for parts, where in _written_details():
        sample = _known(parts)
        if sample is None or sample in SAME_IN_DUTCH:
            continue
        with translation.override("nl"):
            dutch = readable(sample)
        with translation.override("en"):
            shown_in_english = readable(sample)
        if dutch in (sample, shown_in_english):
            english.append(f"{where}: {sample!r}")
    assert english == [], "no Dutch translation:\n" + "\n".join(sorted(set(english)))


def test_choice_values_read_as_their_labels():
    with translation.override("nl"):
        assert readable("feedback letter intake_done") == "terugkoppelbrief: intake gedaan"
        assert readable("claim answered: rejected") == "declaratie beantwoord: afgewezen"
