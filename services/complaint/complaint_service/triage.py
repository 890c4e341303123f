"""Triage at intake: the severity a complaint gets and the department that handles it.

DOMAIN.md §3: a complaint is ``major`` for a large customer, safety, legal, several
departments or escalation; the handling department follows the cause, and customer_service
coordinates. Pure rules on the tenant's :class:`~.domain.ComplaintPolicy`:

* **Severity** is derived, not only chosen: the given one is never lowered; a ``general``
  complaint is raised to ``major`` when its category is one of ``major_categories``, when
  its customer's size tier is one of ``major_customer_size_tiers`` or its grade one of
  ``major_customer_grades``, or when it touches more than one department (its handling one
  and the assisting ones named at intake). The reason says which rule decided, the first
  that applies: ``given``, ``category``, ``customer``, ``several_departments``.
* **Escalation** (a missed time limit, escalation.py) raises a ``general`` complaint to
  ``major`` later, for the reason ``escalated``; a major one stays as it is.
* **Handling department**: the one the request names, else ``departments_by_category`` of
  the category; neither → :class:`DepartmentRequired`.
* **Coordinator**: ``coordinator_department`` when another department handles the
  complaint; None when the coordinating department handles it itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .domain import ComplaintPolicy

GIVEN, CATEGORY, CUSTOMER = "given", "category", "customer"
SEVERAL_DEPARTMENTS, ESCALATED = "several_departments", "escalated"
SEVERITY_REASONS = (GIVEN, CATEGORY, CUSTOMER, SEVERAL_DEPARTMENTS, ESCALATED)


class DepartmentRequired(ValueError):
    def __init__(self, category: str):
        self.category = category
        super().__init__(f"department required: no department is set for category {category!r}")


@dataclass(frozen=True)
class Severity:
    value: str
    given: str
    reason: str


def derive_severity(
    given: str,
    category: str,
    policy: ComplaintPolicy,
    *,
    size_tier: str | None = None,
    grade: str | None = None,
    departments: Iterable[str] = (),
) -> Severity:
    """The complaint's severity from the given one, its category, its customer and the
    ``departments`` it touches."""
    if given == "major":
        return Severity("major", given, GIVEN)
    if category in policy.major_categories:
        return Severity("major", given, CATEGORY)
    if (size_tier is not None and size_tier in policy.major_customer_size_tiers) or (
        grade is not None and grade in policy.major_customer_grades
    ):
        return Severity("major", given, CUSTOMER)
    if len(set(departments)) > 1:
        return Severity("major", given, SEVERAL_DEPARTMENTS)
    return Severity(given, given, GIVEN)


def escalated_severity(severity: str) -> str | None:
    """The reason to raise a complaint of ``severity`` whose time limit was missed:
    ``escalated`` for a general one, None for one that is major already."""
    return None if severity == "major" else ESCALATED


def handling_department(category: str, given: str | None, policy: ComplaintPolicy) -> str:
    """The department named, else the tenant's one for ``category``."""
    if given:
        return given
    department = policy.departments_by_category.get(category)
    if department is None:
        raise DepartmentRequired(category)
    return department


def coordinator_of(department: str, policy: ComplaintPolicy) -> str | None:
    """Who coordinates: the coordinating department, unless it handles the complaint."""
    coordinator = policy.coordinator_department
    return None if department == coordinator else coordinator


def department_sees(
    caller_department: str | None, department: str, coordinator: str | None, *, handling: bool
) -> bool:
    """Whether a department key sees a complaint: its own department's always; the
    coordinating department (customer_service) reads those it coordinates, with their
    ledger, to follow and report progress, but ``handling`` (a step) stays the handler's."""
    if caller_department == department:
        return True
    return not handling and coordinator is not None and caller_department == coordinator
