"""My agenda: the signed-in person's visits due today and overdue, complaints near their
limits (with a live countdown), and open issues (``GET /me/agenda``)."""

from __future__ import annotations

from ..blueprint import bp
from ..guard import signed_in
from .common import customer_names, page, read


@bp.get("/")
@signed_in
def agenda():
    today = read("/me/agenda")
    parts = ("visits_due_today", "visits_overdue", "complaints_due_soon", "issues_open")
    ids = [item.get("customer_id") for part in parts for item in today.get(part, [])]
    return page("console/agenda.html", agenda=today, names=customer_names(ids))
