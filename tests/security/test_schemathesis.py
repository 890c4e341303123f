"""Hostile input against the whole API (issue #6): schemathesis on the live OpenAPI document
of an in-process standalone system, called through WSGI as a tenant admin.

Every operation gets a bounded number of generated requests, valid ones and invalid ones
(wrong types, missing and extra fields, out-of-range values, odd strings), derandomized so
a run is repeatable (``REVISIT_FUZZ_EXAMPLES`` per operation, default 25; on PostgreSQL,
the second run of the module, ``REVISIT_FUZZ_EXAMPLES_POSTGRES``, default 10, which keeps
that run near 40 s here: the same strategies, cut short). Half the cases
use the ids of the tenant's real resources in the path, so the generated bodies reach the
code behind the lookup; the other half generate the ids too. Each answer must not be a
server error and must match the response schema the document declares for its status.

(schemathesis's own pytest integration, ``schemathesis.pytest.from_fixture``, does not run
under pytest 9, so the cases are drawn from its public ``APIOperation.as_strategy`` here,
one subtest per operation.)
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.client import ADMIN, Api

from .catalog import PARAM, WEBHOOK_URL, create_all

# Examples per operation (about 90 operations): more with REVISIT_FUZZ_EXAMPLES for a long run.
EXAMPLES = int(os.environ.get("REVISIT_FUZZ_EXAMPLES", "12"))
EXAMPLES_POSTGRES = int(os.environ.get("REVISIT_FUZZ_EXAMPLES_POSTGRES", "5"))
SPEC_PATH = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, response_schema_conformance]


def _settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )


# Operations not fuzzed, and why.
EXCLUDED: dict[str, str] = {}


@pytest.fixture(scope="module")
def target(module_system):
    admin = Api(module_system).new_tenant("Fuzzed")
    ids = create_all(admin)
    schema = schemathesis.openapi.from_wsgi(SPEC_PATH, module_system.app)
    on_postgres = module_system.runtimes["gateway"].db.is_postgres
    return schema, admin.key, ids, EXAMPLES_POSTGRES if on_postgres else EXAMPLES


def _headers(operation, key: str) -> dict[str, str]:
    if operation.path == "/api/v1/tenants" and operation.method.upper() == "POST":
        return {"Authorization": f"Bearer {ADMIN}"}  # the platform operator's token
    return {"Authorization": f"Bearer {key}"}


def _strategy(operation, key: str, ids: dict[str, str]) -> st.SearchStrategy:
    headers = _headers(operation, key)
    real = {name: ids[name] for name in PARAM.findall(operation.path) if name in ids}
    kinds = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        kinds.append(operation.as_strategy(mode, headers=headers))
        if real:
            kinds.append(operation.as_strategy(mode, headers=headers, path_parameters=real))
    return st.one_of(kinds)


def _fixed_webhook_url(case) -> None:
    """Deliveries must not go to whatever host was generated."""
    is_webhook = case.operation.path == "/api/v1/webhooks"
    if is_webhook and isinstance(case.body, dict) and "url" in case.body:
        case.body["url"] = WEBHOOK_URL


def test_no_server_errors_and_responses_match_the_schema(target, subtests):
    schema, key, ids, examples = target
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        if label in EXCLUDED:
            continue
        with subtests.test(msg=label):

            @_settings(examples)
            @hypothesis.given(case=_strategy(operation, key, ids))
            def fuzz(case):
                _fixed_webhook_url(case)
                case.call_and_validate(checks=CHECKS)

            fuzz()
