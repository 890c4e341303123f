"""What supervisors review (DOMAIN.md §6), the pure rule: every key account's (grade A)
visit report, and the random share of each assignee's others, unchanged."""

from __future__ import annotations

import random

import pytest

from visit_service.domain import audit_sample, review_sample


def test_every_key_account_visit_is_reviewed_beside_the_random_share():
    candidates = [("k2", "li", "A"), ("k1", "zhao", "A")]
    candidates += [(f"b{i}", "li", "B") for i in range(10)] + [("c0", None, None)]
    review = review_sample(candidates, 0.1, random.Random(3))
    assert review.key_accounts == ("k1", "k2")
    assert [(g.assignee, g.population, len(g.sampled)) for g in review.groups] == [
        ("li", 10, 1),
        (None, 1, 1),
    ]
    sampled = {v for g in review.groups for v in g.sampled}
    assert not sampled & set(review.key_accounts)


def test_the_random_share_of_the_others_is_audit_samples():
    others = [(f"v{i:02}", "li" if i % 2 else "zhao") for i in range(20)]
    graded = [(v, a, "B" if i % 3 else "C") for i, (v, a) in enumerate(others)]
    review = review_sample(graded, 0.3, random.Random(7))
    assert review.key_accounts == ()
    assert review.groups == audit_sample(others, 0.3, random.Random(7))


@pytest.mark.parametrize("share", [0.1, 1.0])
def test_only_key_accounts(share):
    review = review_sample([("k1", "li", "A"), ("k0", None, "A")], share, random.Random(0))
    assert review.key_accounts == ("k0", "k1")
    assert review.groups == []


def test_nothing_to_review():
    review = review_sample([], 0.1, random.Random(0))
    assert (review.key_accounts, review.groups) == ((), [])
