"""AMQP topic matching cases, (pattern, routing key, matches?): for every function that must
match topics as a RabbitMQ topic exchange does ("*" one word, "#" zero or more words)."""

from __future__ import annotations

AMQP_TOPIC_CASES = [
    ("customer.registered", "customer.registered", True),
    ("customer.registered", "customer.graded", False),
    ("customer.*", "customer.graded", True),
    ("customer.*", "customer.graded.extra", False),
    ("customer.*", "customer", False),
    ("complaint.*.product", "complaint.raised.product", True),
    ("complaint.*.product", "complaint.raised.sales", False),
    ("complaint.*", "complaint.raised.product", False),
    ("issue.*", "complaint.raised", False),
    ("#", "visit.completed", True),
    ("#", "issue.resolved.sales", True),
    ("#", "", True),
    ("visit.#", "visit", True),
    ("visit.#", "visit.completed.east", True),
    ("complaint.#", "complaint.raised.product", True),
    ("complaint.raised.#", "complaint.raised", True),
    ("#.east", "visit.completed.east", True),
    ("#.east", "visit.completed.west", False),
    ("*.*.product", "issue.raised.product", True),
    ("a.#.z", "a.b.c.z", True),
    ("a.#.z", "a.z", True),
    ("a.#.z", "a.b.c", False),
    ("complaint.#.product", "complaint.product", True),
]
