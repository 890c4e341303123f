"""Unit tests of the contact pairing and the ContactDatesChanged rule (DOMAIN.md §6 "Care"):
dates set, changed or cleared, and the decision-maker flag of a contact with dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_service.contact_dates import dates_changed, event_due, flag_changed, pair_by_name

BIRTHDAY = date(1980, 5, 2)
ANNIVERSARY = date(2010, 9, 1)


def test_same_names_continue_new_names_are_new():
    assert pair_by_name(["Zhang", "Li"], ["Li", "Wang", "Zhang"]) == [1, None, 0]


def test_repeated_names_pair_in_order():
    assert pair_by_name(["Chen", "Chen"], ["Chen"]) == [0]
    assert pair_by_name(["Chen"], ["Chen", "Chen"]) == [0, None]
    assert pair_by_name(["Chen", "Li", "Chen"], ["Chen", "Chen", "Chen"]) == [0, 2, None]


def test_empty_lists():
    assert pair_by_name([], []) == []
    assert pair_by_name(["Zhang"], []) == []
    assert pair_by_name([], ["Zhang"]) == [None]


def test_names_match_exactly():
    assert pair_by_name(["Zhang"], ["zhang", "Zhang "]) == [None, None]


@given(
    stored=st.lists(st.sampled_from("abc"), max_size=6),
    given_names=st.lists(st.sampled_from("abcd"), max_size=6),
)
def test_each_stored_contact_is_continued_at_most_once_by_its_own_name(stored, given_names):
    pairs = pair_by_name(stored, given_names)
    used = [i for i in pairs if i is not None]
    assert len(used) == len(set(used))
    for name, index in zip(given_names, pairs, strict=True):
        assert index is None or stored[index] == name
    # as many continue as the names allow
    for name in set(given_names):
        assert sum(
            1 for n, i in zip(given_names, pairs, strict=True) if n == name and i is not None
        ) == min(stored.count(name), given_names.count(name))


@pytest.mark.parametrize(
    ("before", "after", "due"),
    [
        (None, (BIRTHDAY, None), True),
        (None, (None, ANNIVERSARY), True),
        (None, (None, None), False),
        ((BIRTHDAY, None), None, True),
        ((None, ANNIVERSARY), None, True),
        ((None, None), None, False),
        ((BIRTHDAY, None), (BIRTHDAY, None), False),
        ((BIRTHDAY, ANNIVERSARY), (BIRTHDAY, ANNIVERSARY), False),
        ((BIRTHDAY, None), (date(1980, 6, 2), None), True),
        ((BIRTHDAY, None), (None, None), True),
        ((None, None), (None, ANNIVERSARY), True),
        ((BIRTHDAY, ANNIVERSARY), (BIRTHDAY, None), True),
        ((None, None), (None, None), False),
    ],
)
def test_dates_changed(before, after, due):
    assert dates_changed(before, after) is due


def test_a_contact_must_exist_on_one_side():
    with pytest.raises(ValueError):
        dates_changed(None, None)


@pytest.mark.parametrize(
    ("after", "was_key", "is_key", "due"),
    [
        ((BIRTHDAY, None), False, True, True),
        ((BIRTHDAY, None), True, False, True),
        ((None, ANNIVERSARY), False, True, True),
        ((BIRTHDAY, ANNIVERSARY), True, False, True),
        ((BIRTHDAY, None), True, True, False),
        ((BIRTHDAY, None), False, False, False),
        ((None, None), False, True, False),  # no dates: nothing to care for
        ((None, None), True, False, False),
        ((BIRTHDAY, None), None, True, False),  # new contact: dates_changed decides
        (None, True, None, False),  # removed contact: dates_changed decides
    ],
)
def test_flag_changed(after, was_key, is_key, due):
    assert flag_changed(after, was_key, is_key) is due


@pytest.mark.parametrize(
    ("before", "after", "was_key", "is_key", "due"),
    [
        # the flag alone, on a contact with dates
        ((BIRTHDAY, None), (BIRTHDAY, None), False, True, True),
        ((None, ANNIVERSARY), (None, ANNIVERSARY), True, False, True),
        # the flag alone, on a contact without dates
        ((None, None), (None, None), False, True, False),
        ((None, None), (None, None), True, False, False),
        # neither changes
        ((BIRTHDAY, None), (BIRTHDAY, None), True, True, False),
        # dates and flag change together: one event
        ((BIRTHDAY, None), (None, None), True, False, True),
        ((None, None), (BIRTHDAY, None), False, True, True),
        # created and removed contacts follow their dates only
        (None, (BIRTHDAY, None), None, True, True),
        (None, (None, None), None, True, False),
        ((BIRTHDAY, None), None, True, True, True),
        ((None, None), None, True, True, False),
    ],
)
def test_event_due(before, after, was_key, is_key, due):
    assert event_due(before, after, was_key, is_key) is due


@given(
    before=st.tuples(st.sampled_from([None, BIRTHDAY]), st.sampled_from([None, ANNIVERSARY])),
    after=st.tuples(st.sampled_from([None, BIRTHDAY]), st.sampled_from([None, ANNIVERSARY])),
    was_key=st.booleans(),
    is_key=st.booleans(),
)
def test_an_unchanged_flag_leaves_the_dates_rule_alone(before, after, was_key, is_key):
    if was_key == is_key:
        assert event_due(before, after, was_key, is_key) is dates_changed(before, after)
    else:
        assert event_due(before, after, was_key, is_key) is (
            dates_changed(before, after) or after != (None, None)
        )
