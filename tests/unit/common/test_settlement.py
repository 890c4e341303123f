"""When an event on the in-memory bus counts as delivered (standalone mode)."""

from __future__ import annotations

import pytest

from revisit_common.messaging.settlement import Settlements, topic_matches
from tests.support.topics import AMQP_TOPIC_CASES


@pytest.mark.parametrize(("pattern", "key", "expected"), AMQP_TOPIC_CASES)
def test_topic_matching_follows_amqp(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def test_settled_once_every_bound_consumer_settled():
    settlements = Settlements()
    settlements.bind("visit", ["customer.*", "purchase.recorded"])
    settlements.bind("kpi", ["#"])
    settlements.bind("survey", ["customer.graded"])
    done = []
    settlements.expect("e1", "purchase.recorded", lambda: done.append("e1"))
    assert settlements.consumers_of("purchase.recorded") == {"visit", "kpi"}

    settlements.settled("e1", "visit")
    assert done == []
    settlements.settled("e1", "survey")  # not bound to it: changes nothing
    assert done == []
    settlements.settled("e1", "kpi")
    assert done == ["e1"]
    assert settlements.outstanding() == 0

    settlements.settled("e1", "kpi")  # a redelivery settles nothing twice
    assert done == ["e1"]


def test_an_event_nobody_is_bound_to_is_settled_at_once():
    settlements = Settlements()
    settlements.bind("visit", ["customer.*"])
    done = []
    settlements.expect("e1", "complaint.raised.sales", lambda: done.append("e1"))
    assert done == ["e1"]
    assert settlements.outstanding() == 0


def test_forgotten_event_is_never_reported():
    settlements = Settlements()
    settlements.bind("kpi", ["#"])
    done = []
    settlements.expect("e1", "visit.completed", lambda: done.append("e1"))
    settlements.forget("e1")
    settlements.settled("e1", "kpi")
    assert done == []
    assert settlements.outstanding() == 0


def test_binding_again_replaces_a_consumers_keys():
    settlements = Settlements()
    settlements.bind("visit", ["customer.*"])
    settlements.bind("visit", ["repair.closed"])
    assert settlements.consumers_of("customer.registered") == set()
    assert settlements.consumers_of("repair.closed") == {"visit"}
