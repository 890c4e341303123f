"""The password and lockout rules (gateway_service.passwords): plain functions."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from gateway_service import passwords
from gateway_service.options import GatewayOptions
from gateway_service.passwords import Lock

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_a_hash_verifies_its_password_only():
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("scrypt$15$8$1$")
    assert passwords.verify_password("correct horse battery", stored) is True
    assert passwords.verify_password("correct horse batterY", stored) is False
    assert passwords.verify_password("", stored) is False


def test_the_same_password_gets_another_salt_each_time():
    assert passwords.hash_password("correct horse battery") != passwords.hash_password(
        "correct horse battery"
    )


def test_a_given_salt_gives_the_same_hash():
    salt = bytes(range(16))
    assert passwords.hash_password("x" * 12, salt=salt) == passwords.hash_password(
        "x" * 12, salt=salt
    )


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "plain",
        "bcrypt$15$8$1$AAAA$AAAA",
        "scrypt$15$8$1$not base64!$AAAA",
        "scrypt$30$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$x$8$1$AAAA$AAAA",
    ],
)
def test_a_stored_form_that_is_not_one_verifies_nothing(stored):
    assert passwords.verify_password("anything at all", stored) is False


def test_cost_parameters_are_read_from_the_stored_form():
    salt = bytes(16)
    digest = hashlib.scrypt(b"correct horse battery", salt=salt, n=2**14, r=8, p=1, dklen=32)
    encoded = [base64.b64encode(raw).decode() for raw in (salt, digest)]
    stored = "scrypt$14$8$1$" + "$".join(encoded)
    assert passwords.verify_password("correct horse battery", stored) is True


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10 characters"),
        ("x" * 201, "at most 200 characters"),
        (" " * 12, "not only spaces"),
        ("wang.fang", "at least 10 characters"),
        ("Wang.Fang.1", None),
        ("wang.fang.x", None),
        ("correct horse battery", None),
        ("长城长城长城长城长城", None),
    ],
)
def test_weakness(password, problem):
    assert passwords.weakness(password, "wang.fang") == problem


def test_the_staff_id_itself_is_no_password():
    assert passwords.weakness("li.ming.long", "li.ming.long") == "not the staff id"
    assert passwords.weakness("LI.MING.LONG ", "li.ming.long") == "not the staff id"


def test_lock_after_max_failures_in_a_row():
    state = Lock(0, None)
    for count in range(1, passwords.MAX_FAILURES):
        state = passwords.after_failure(state, NOW)
        assert state == Lock(count, None)
        assert passwords.locked(state, NOW) is False
    state = passwords.after_failure(state, NOW)
    until = NOW + timedelta(minutes=passwords.LOCK_MINUTES)
    assert state == Lock(0, until)
    assert passwords.locked(state, NOW) is True
    assert passwords.locked(state, until - timedelta(seconds=1)) is True
    assert passwords.locked(state, until) is False


def test_success_clears_the_count():
    assert passwords.after_success() == Lock(0, None)


@pytest.mark.parametrize(("value", "cost"), [(None, 15), ("10", 10), ("20", 20)])
def test_the_operator_chooses_the_cost(value, cost):
    env = {} if value is None else {"REVISIT_PASSWORD_COST": value}
    assert GatewayOptions.from_env(env).password_cost == cost


@pytest.mark.parametrize("value", ["9", "21", "fast"])
def test_a_cost_out_of_range_stops_the_start(value):
    with pytest.raises(ValueError, match="REVISIT_PASSWORD_COST"):
        GatewayOptions.from_env({"REVISIT_PASSWORD_COST": value})


def test_a_hash_at_another_cost_names_it_and_verifies():
    stored = passwords.hash_password("correct horse battery", cost=10)
    assert stored.startswith("scrypt$10$8$1$")
    assert passwords.verify_password("correct horse battery", stored) is True
