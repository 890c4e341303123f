"""Issue #5 acceptance: `make stack` (one process per role, real RabbitMQ and PostgreSQL)
serves the gateway, and the follow-up and complaint loops work through it."""

from __future__ import annotations

from tests.support.client import Api

from .loops import complaint_loop, follow_up_loop, policy_inputs_loop


def test_stack_serves_the_gateway_and_both_loops(stack):
    health = stack.get("/healthz")
    assert health.status_code == 200 and health.json["service"] == "gateway"
    spec = stack.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/customers",
        "/api/v1/visits",
        "/api/v1/complaints",
        "/api/v1/surveys",
        "/api/v1/kpis",
    ):
        assert path in spec["paths"], path
    follow_up_loop(Api(stack).new_tenant("Loop one"), kpi_timeout=15)
    complaint_loop(Api(stack).new_tenant("Loop two"), timeout=15)


def test_stack_plans_visits_from_projects_and_marketing_events(stack):
    """Issue #13 over RabbitMQ and PostgreSQL, one process per role."""
    policy_inputs_loop(Api(stack).new_tenant("Policies"), timeout=15)
