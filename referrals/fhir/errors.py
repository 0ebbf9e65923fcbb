"""The one exception FHIR handling raises for input it refuses.

Integrations (ZorgDomein, a zorggroep's KIS) read OperationOutcome, not HTML error pages, and need
to know which element is wrong; so every refusal carries an IssueType code and an expression.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue; ``code`` is a FHIR IssueType (invalid, required, not-found...)."""

    code: str
    diagnostics: str
    expression: str = ""
    severity: str = "error"


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str, expression: str = ""):
        self.status = status
        self.issues: list[Issue] = [Issue(code, str(diagnostics), expression)]
        super().__init__(str(diagnostics))

    @classmethod
    def of(cls, status: int, issues: list[Issue]) -> FhirError:
        error = cls(status, issues[0].code, issues[0].diagnostics, issues[0].expression)
        error.issues = list(issues)
        return error


def required(diagnostics: str, expression: str) -> FhirError:
    return FhirError(422, "required", diagnostics, expression)


def invalid(diagnostics: str, expression: str, code: str = "value") -> FhirError:
    return FhirError(422, code, diagnostics, expression)
