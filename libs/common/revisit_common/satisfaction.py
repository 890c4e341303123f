"""The five levels of overall satisfaction (DOMAIN.md §2), from the most to the least satisfied.

Customers score them, visits record one, and surveys ask for one: the same words everywhere.
"""

SATISFACTION_LEVELS = (
    "very_satisfied",
    "satisfied",
    "neutral",
    "dissatisfied",
    "very_dissatisfied",
)
