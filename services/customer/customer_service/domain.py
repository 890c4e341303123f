"""Customer classification rules: size, cooperation length, grade and risk.

The rules come from DOMAIN.md §1 "Customers" ("Classification"); every number a policy
leaves open is a per-tenant setting in :class:`ClassificationPolicy`, with DOMAIN.md's
default. The module uses the standard library only (no Flask, SQLAlchemy or kombu), so the
HTTP layer, the event handlers and the periodic re-evaluation all call the same code.

Classification of one customer (:func:`classify`):

* **size tier** from the annual purchase amount: ``large`` (>= 1,000,000), ``medium``
  (>= 100,000), else ``small``.
* **cooperation tier** from the full calendar years since ``cooperation_start``: ``long``
  (>= 5 years), ``medium`` (>= 2 years), else ``short``.
* **score** 0-100, the weighted sum of four components, each 0-100:

  - *purchase amount*: ``100 * annual_purchase_amount / large_amount_threshold``, capped at
    100 (a large customer scores 100);
  - *cooperation*: ``100 * full_years / long_cooperation_years``, capped at 100;
  - *sales performance*: when there were purchases in the 12 months before the last 12, the
    growth ratio ``r = last_12m / prev_12m`` scores ``50 * r`` up to r = 1 (flat sales score
    50, no sales 0) and ``50 + 50 * (r - 1) / sales_growth_for_full_score`` above it (by
    default +50% growth scores 100), capped at 100; without such a previous year, the purchase
    frequency ``100 * purchase_count_12m / purchase_count_for_full_score`` (default 12
    purchases a year score 100), capped at 100;
  - *satisfaction*: the average of the recorded visit satisfaction levels, each worth
    very_satisfied 100, satisfied 75, neutral 50, dissatisfied 25, very_dissatisfied 0;
    ``satisfaction_default_score`` (50, neutral) when none is recorded.

  Default weights 0.35 / 0.25 / 0.20 / 0.20. The score is rounded half-up to one decimal.
* **grade** from the rounded score: ``A`` >= 80, ``B`` >= 60, else ``C``.
* **risk level** from :class:`RiskIndicators`: ``high`` on a legal dispute, payments overdue
  >= 90 days, a poor credit rating or >= 5 complaints in 12 months; ``medium`` on payments
  overdue >= 30 days, a fair credit rating, >= 2 complaints, or purchases down >= 30% on the
  previous 12 months; else ``low``. Each level asks for its measures (:func:`measures_for`,
  DOMAIN.md §6 "Risk"): a watch plan for ``medium``; a lower credit line, shorter payment
  terms and guarantees for ``high``; none for ``low``.

Money is :class:`~decimal.Decimal` throughout; the score arithmetic is done in Decimal too, so
a score exactly on a cut-off is graded the same on every machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from revisit_common.checks import check_choice, check_date
from revisit_common.policy import Policy, PolicyError, check_bounds, setting
from revisit_common.satisfaction import SATISFACTION_LEVELS

__all__ = [
    "COOPERATION_TIERS",
    "CREDIT_RATINGS",
    "CUSTOMER_TYPES",
    "GRADES",
    "HIGH_RISK_MEASURES",
    "MEDIUM_RISK_MEASURES",
    "RISK_LEVELS",
    "SATISFACTION_LEVELS",
    "SATISFACTION_POINTS",
    "SIZE_TIERS",
    "Classification",
    "ClassificationPolicy",
    "CustomerFacts",
    "PolicyError",
    "RiskIndicators",
    "annual_amount",
    "assess_risk",
    "classify",
    "composite_score",
    "cooperation_points",
    "cooperation_tier",
    "cooperation_years",
    "grade_for_score",
    "measures_for",
    "purchase_amount_points",
    "purchase_trend",
    "raises_warning",
    "regrade_cutoff",
    "regrade_due",
    "risk_changed",
    "sales_performance_points",
    "satisfaction_points",
    "score_components",
    "size_tier",
]

CUSTOMER_TYPES = ("dealer", "agent", "end_user")
# Tiers, grades and levels are listed from lowest to highest.
SIZE_TIERS = ("small", "medium", "large")
COOPERATION_TIERS = ("short", "medium", "long")
GRADES = ("C", "B", "A")
RISK_LEVELS = ("low", "medium", "high")
CREDIT_RATINGS = ("good", "fair", "poor")
# Points of each overall-satisfaction level (DOMAIN.md §2, five levels) in the score.
SATISFACTION_POINTS: Mapping[str, Decimal] = {
    "very_satisfied": Decimal(100),
    "satisfied": Decimal(75),
    "neutral": Decimal(50),
    "dissatisfied": Decimal(25),
    "very_dissatisfied": Decimal(0),
}
# DOMAIN.md §6 "Risk": "medium risk asks for a watch plan" — the owner follows the customer
# up and its payment behaviour is reviewed monthly.
MEDIUM_RISK_MEASURES = ("watch_plan",)
# DOMAIN.md §1 and §6: "high risk for measures (lower credit line, shorter payment terms,
# guarantees)".
HIGH_RISK_MEASURES = ("lower_credit_line", "shorten_payment_terms", "require_guarantees")

# Names of the score components, in the order of the weights.
COMPONENTS = ("purchase_amount", "cooperation", "sales_performance", "satisfaction")

_ZERO = Decimal(0)
_FIFTY = Decimal(50)
_HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")
_WEIGHT_TOLERANCE = Decimal("1e-6")


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class ClassificationPolicy(Policy):
    """The per-tenant numbers of DOMAIN.md §1 "Classification", with its defaults.

    Values are checked on construction (so also by :func:`dataclasses.replace`); a bad one
    raises :class:`PolicyError` (a ``ValueError``). Numbers may be given as ``Decimal``,
    ``int``, ``float`` or numeric strings and are stored as ``Decimal``; counts of days,
    years and purchases must be ``int``. The JSON name of each setting is its field name.
    """

    policy_name = "classification"

    # Size tiers, from the annual purchase amount (DOMAIN.md §1 "by size").
    large_amount_threshold: Decimal = setting(Decimal("1000000"), "money", above=0)
    medium_amount_threshold: Decimal = setting(Decimal("100000"), "money", minimum=0)
    # Cooperation tiers, in full years since cooperation_start ("by cooperation length").
    long_cooperation_years: int = setting(5, "int", above=0)
    medium_cooperation_years: int = setting(2, "int", minimum=0)
    # Weights of the score components ("grade ... from a composite score"); they sum to 1.
    weight_purchase_amount: Decimal = setting(Decimal("0.35"), "number", minimum=0, maximum=1)
    weight_cooperation: Decimal = setting(Decimal("0.25"), "number", minimum=0, maximum=1)
    weight_sales_performance: Decimal = setting(Decimal("0.20"), "number", minimum=0, maximum=1)
    weight_satisfaction: Decimal = setting(Decimal("0.20"), "number", minimum=0, maximum=1)
    # Sales performance: growth (0.5 = +50%) or purchases a year that score 100.
    sales_growth_for_full_score: Decimal = setting(Decimal("0.5"), "number", above=0)
    purchase_count_for_full_score: int = setting(12, "int", above=0)
    # Satisfaction component when no visit has recorded a satisfaction level (neutral).
    satisfaction_default_score: Decimal = setting(Decimal(50), "number", minimum=0, maximum=100)
    # Grade cut-offs on the rounded score: A >= 80, B >= 60, else C.
    grade_a_min: Decimal = setting(Decimal(80), "number", minimum=0, maximum=100)
    grade_b_min: Decimal = setting(Decimal(60), "number", minimum=0, maximum=100)
    # Risk thresholds ("risk level ... from indicators ... with thresholds").
    risk_high_overdue_days: int = setting(90, "int", above=0)
    risk_medium_overdue_days: int = setting(30, "int", above=0)
    risk_high_complaints: int = setting(5, "int", above=0)
    risk_medium_complaints: int = setting(2, "int", above=0)
    # Purchases fell by at least this share of the previous 12 months (0.3 = 30%).
    risk_medium_purchase_drop: Decimal = setting(Decimal("0.3"), "number", above=0, maximum=1)
    # Re-grading: every customer is re-evaluated this many days after its last grading
    # (DOMAIN.md §6 "re-evaluated every [period] (default monthly)").
    regrade_every_days: int = setting(30, "int", minimum=1, maximum=366)

    def check_relations(self, errors: dict[str, list[str]]) -> None:
        pairs = (
            ("medium_amount_threshold", "large_amount_threshold"),
            ("medium_cooperation_years", "long_cooperation_years"),
            ("grade_b_min", "grade_a_min"),
            ("risk_medium_overdue_days", "risk_high_overdue_days"),
            ("risk_medium_complaints", "risk_high_complaints"),
        )
        for lower, upper in pairs:
            low, high = getattr(self, lower), getattr(self, upper)
            if low > high:
                errors.setdefault(lower, []).append(
                    f"must not exceed {upper} ({_json_value(high)}), got {_json_value(low)}"
                )
        total = sum(self.weights().values(), _ZERO)
        if abs(total - 1) > _WEIGHT_TOLERANCE:
            errors.setdefault("_schema", []).append(
                f"the four weight_* settings must sum to 1, they sum to {total}"
            )

    def weights(self) -> dict[str, Decimal]:
        """The weight of each score component, keyed by component name."""
        return {
            "purchase_amount": self.weight_purchase_amount,
            "cooperation": self.weight_cooperation,
            "sales_performance": self.weight_sales_performance,
            "satisfaction": self.weight_satisfaction,
        }

    @staticmethod
    def coerce(value: Any, meta: Mapping[str, Any]) -> Decimal | int:
        return _coerce_setting(value, meta)

    @staticmethod
    def json_value(value: Decimal | int, meta: Mapping[str, Any]) -> str | int | float:
        """Money as strings (exact), other numbers as JSON numbers."""
        return _json_value(value, meta["kind"])


def _coerce_setting(value: Any, meta: Mapping[str, Any]) -> Decimal | int:
    kind = meta["kind"]
    number: Decimal | int
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        number = value
    else:
        number = _to_decimal(value)
    check_bounds(number, meta, _json_value(number), zero_minimum_as_negative=True)
    return number


def _to_decimal(value: Any) -> Decimal:
    """A finite Decimal from a Decimal, int, float (via its shortest repr) or numeric string;
    ``ValueError`` for anything else (including ``bool``, NaN and infinities)."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"must be a number, got {value!r}") from None
    else:
        raise ValueError(f"must be a number, got {value!r}")
    if not number.is_finite():
        raise ValueError(f"must be a finite number, got {value!r}")
    return number


def _json_value(value: Decimal | int, kind: str = "number") -> str | int | float:
    if isinstance(value, int):
        return value
    if kind == "money":
        return str(value)
    return int(value) if value == value.to_integral_value() else float(value)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class RiskIndicators:
    """The risk indicators of DOMAIN.md §1 (overdue payments, complaints, falling purchases,
    legal disputes, credit record). ``purchase_trend`` is purchases of the last 12 months
    divided by those of the 12 months before (see :func:`purchase_trend`), ``None`` when
    there is no previous year to compare with. Invalid values raise ``ValueError``."""

    overdue_payment_days: int = 0
    legal_dispute: bool = False
    credit_rating: str = "good"
    complaints_12m: int = 0
    purchase_trend: Decimal | None = None

    def __post_init__(self) -> None:
        _check_count("overdue_payment_days", self.overdue_payment_days)
        _check_count("complaints_12m", self.complaints_12m)
        if not isinstance(self.legal_dispute, bool):
            raise ValueError(f"legal_dispute must be a bool, got {self.legal_dispute!r}")
        check_choice("credit_rating", self.credit_rating, CREDIT_RATINGS)
        if self.purchase_trend is not None:
            trend = _to_amount("purchase_trend", self.purchase_trend)
            object.__setattr__(self, "purchase_trend", trend)


@dataclass(frozen=True)
class CustomerFacts:
    """What the classification reads about one customer. Amounts are money (Decimal; ints and
    numeric strings are converted); ``satisfaction_scores`` are the overall-satisfaction
    levels recorded on the customer's visits. Invalid values raise ``ValueError``."""

    type: str
    annual_purchase_amount: Decimal
    cooperation_start: date
    purchases_last_12m: Decimal = _ZERO
    purchases_prev_12m: Decimal = _ZERO
    purchase_count_12m: int = 0
    satisfaction_scores: tuple[str, ...] = ()
    risk: RiskIndicators = field(default_factory=RiskIndicators)

    def __post_init__(self) -> None:
        check_choice("type", self.type, CUSTOMER_TYPES)
        for name in ("annual_purchase_amount", "purchases_last_12m", "purchases_prev_12m"):
            object.__setattr__(self, name, _to_amount(name, getattr(self, name)))
        check_date("cooperation_start", self.cooperation_start)
        _check_count("purchase_count_12m", self.purchase_count_12m)
        if isinstance(self.satisfaction_scores, str):
            raise ValueError("satisfaction_scores must be a sequence of levels, not a string")
        levels = tuple(self.satisfaction_scores)
        for level in levels:
            check_choice("satisfaction_scores item", level, SATISFACTION_LEVELS)
        object.__setattr__(self, "satisfaction_scores", levels)
        if not isinstance(self.risk, RiskIndicators):
            raise ValueError(f"risk must be RiskIndicators, got {type(self.risk).__name__}")


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


def _to_amount(name: str, value: Any) -> Decimal:
    try:
        amount = _to_decimal(value)
    except ValueError as exc:
        raise ValueError(f"{name} {exc}") from None
    if amount < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return amount


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Classification:
    """The derived fields of a customer. ``score`` is rounded to one decimal and ``grade``
    is read from that rounded score. ``risk_reasons`` name each indicator that crossed a
    threshold and the threshold, e.g. ``overdue_payment_days>=90``, ``credit_rating=fair``.
    ``components`` are the four score components (0-100, one decimal) that explain the
    score; ``cooperation_years`` the full years of cooperation."""

    size_tier: str
    cooperation_tier: str
    score: float
    grade: str
    risk_level: str
    risk_reasons: list[str]
    cooperation_years: int = 0
    components: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "size_tier": self.size_tier,
            "cooperation_tier": self.cooperation_tier,
            "score": self.score,
            "grade": self.grade,
            "risk_level": self.risk_level,
            "risk_reasons": list(self.risk_reasons),
            "cooperation_years": self.cooperation_years,
            "components": dict(self.components),
        }


# --------------------------------------------------------------------------- rules


def size_tier(annual_purchase_amount: Decimal, policy: ClassificationPolicy) -> str:
    """DOMAIN.md §1 "by size": ``large`` when the annual purchase amount is at least
    ``large_amount_threshold`` (1,000,000), ``medium`` when at least
    ``medium_amount_threshold`` (100,000), else ``small``."""
    amount = _to_amount("annual_purchase_amount", annual_purchase_amount)
    if amount >= policy.large_amount_threshold:
        return "large"
    if amount >= policy.medium_amount_threshold:
        return "medium"
    return "small"


def cooperation_years(start: date, today: date) -> int:
    """Full calendar years from ``start`` to ``today``: a year is complete on its
    anniversary (started 2021-11-23: 4 years on 2026-11-22, 5 on 2026-11-23). A start on
    29 February has its anniversary on 1 March in other years. 0 when ``start`` is after
    ``today`` (cooperation not begun yet)."""
    check_date("start", start)
    check_date("today", today)
    if today < start:
        return 0
    years = today.year - start.year
    if (today.month, today.day) < (start.month, start.day):
        years -= 1
    return years


def cooperation_tier(years: int, policy: ClassificationPolicy) -> str:
    """DOMAIN.md §1 "by cooperation length": ``long`` from ``long_cooperation_years`` (5)
    full years, ``medium`` from ``medium_cooperation_years`` (2), else ``short``."""
    if years >= policy.long_cooperation_years:
        return "long"
    if years >= policy.medium_cooperation_years:
        return "medium"
    return "short"


def purchase_trend(purchases_last_12m: Decimal, purchases_prev_12m: Decimal) -> Decimal | None:
    """Purchases of the last 12 months divided by those of the 12 months before; ``None``
    when the earlier period had none (nothing to compare with)."""
    last = _to_amount("purchases_last_12m", purchases_last_12m)
    prev = _to_amount("purchases_prev_12m", purchases_prev_12m)
    if prev == 0:
        return None
    return last / prev


def purchase_amount_points(
    annual_purchase_amount: Decimal, policy: ClassificationPolicy
) -> Decimal:
    """Score component for purchase amount: ``100 * amount / large_amount_threshold``,
    capped at 100 — a customer of the large tier gets full marks."""
    amount = _to_amount("annual_purchase_amount", annual_purchase_amount)
    return _clamp(_HUNDRED * amount / policy.large_amount_threshold)


def cooperation_points(years: int, policy: ClassificationPolicy) -> Decimal:
    """Score component for cooperation length: ``100 * full_years / long_cooperation_years``,
    capped at 100 — a customer of the long tier gets full marks."""
    return _clamp(_HUNDRED * Decimal(years) / Decimal(policy.long_cooperation_years))


def sales_performance_points(
    purchases_last_12m: Decimal,
    purchases_prev_12m: Decimal,
    purchase_count_12m: int,
    policy: ClassificationPolicy,
) -> Decimal:
    """Score component for sales performance (DOMAIN.md §1 "sales performance").

    With purchases in the previous 12 months, from the growth ratio
    ``r = last_12m / prev_12m``: ``50 * r`` while r <= 1 (flat sales 50, none 0), then
    ``50 + 50 * (r - 1) / sales_growth_for_full_score`` (by default +50% growth gives 100).
    Without them (a new customer), from the purchase frequency:
    ``100 * purchase_count_12m / purchase_count_for_full_score`` (12 a year give 100).
    Capped at 100 either way."""
    trend = purchase_trend(purchases_last_12m, purchases_prev_12m)
    if trend is None:
        _check_count("purchase_count_12m", purchase_count_12m)
        frequency = Decimal(purchase_count_12m) / Decimal(policy.purchase_count_for_full_score)
        return _clamp(_HUNDRED * frequency)
    if trend <= 1:
        return _clamp(_FIFTY * trend)
    return _clamp(_FIFTY + _FIFTY * (trend - 1) / policy.sales_growth_for_full_score)


def satisfaction_points(levels: Iterable[str], policy: ClassificationPolicy) -> Decimal:
    """Score component for satisfaction: the average points of the recorded levels
    (:data:`SATISFACTION_POINTS`: very_satisfied 100 ... very_dissatisfied 0), or
    ``satisfaction_default_score`` (50, neutral) when none is recorded."""
    points = []
    for level in levels:
        check_choice("satisfaction level", level, SATISFACTION_LEVELS)
        points.append(SATISFACTION_POINTS[level])
    if not points:
        return policy.satisfaction_default_score
    return sum(points, _ZERO) / len(points)


def score_components(
    facts: CustomerFacts, policy: ClassificationPolicy, today: date
) -> dict[str, Decimal]:
    """The four score components (each 0-100, unrounded), keyed as in :data:`COMPONENTS`."""
    years = cooperation_years(facts.cooperation_start, today)
    return {
        "purchase_amount": purchase_amount_points(facts.annual_purchase_amount, policy),
        "cooperation": cooperation_points(years, policy),
        "sales_performance": sales_performance_points(
            facts.purchases_last_12m,
            facts.purchases_prev_12m,
            facts.purchase_count_12m,
            policy,
        ),
        "satisfaction": satisfaction_points(facts.satisfaction_scores, policy),
    }


def composite_score(components: Mapping[str, Decimal], policy: ClassificationPolicy) -> Decimal:
    """DOMAIN.md §1 "composite score (0-100)": the weighted sum of the components, kept
    within 0..100 and rounded half-up to one decimal."""
    weights = policy.weights()
    total = sum((weights[name] * _to_decimal(components[name]) for name in COMPONENTS), _ZERO)
    return _clamp(total).quantize(_TENTH, rounding=ROUND_HALF_UP)


def grade_for_score(score: Decimal | float | int, policy: ClassificationPolicy) -> str:
    """DOMAIN.md §1 grade: ``A`` when the score is at least ``grade_a_min`` (80), ``B`` when
    at least ``grade_b_min`` (60), else ``C``."""
    value = _to_decimal(score)
    if value >= policy.grade_a_min:
        return "A"
    if value >= policy.grade_b_min:
        return "B"
    return "C"


def assess_risk(indicators: RiskIndicators, policy: ClassificationPolicy) -> tuple[str, list[str]]:
    """DOMAIN.md §1 risk level, with the reasons (in a fixed order, one per indicator: the
    highest threshold it crossed).

    ``high`` on any of: a legal dispute (``legal_dispute``); payments overdue at least
    ``risk_high_overdue_days`` (90, ``overdue_payment_days>=90``); a poor credit rating
    (``credit_rating=poor``); at least ``risk_high_complaints`` (5) complaints in 12 months
    (``complaints_12m>=5``). Otherwise ``medium`` on any of: overdue at least
    ``risk_medium_overdue_days`` (30); a fair credit rating (``credit_rating=fair``); at least
    ``risk_medium_complaints`` (2) complaints; purchases down by at least
    ``risk_medium_purchase_drop`` (0.3) of the previous 12 months, i.e. a purchase trend
    <= 0.7 (``purchase_drop>=0.3``). Otherwise ``low``."""
    high: list[str] = []
    medium: list[str] = []
    reasons: list[str] = []

    def crossed(bucket: list[str], reason: str) -> None:
        bucket.append(reason)
        reasons.append(reason)

    if indicators.legal_dispute:
        crossed(high, "legal_dispute")
    overdue = indicators.overdue_payment_days
    if overdue >= policy.risk_high_overdue_days:
        crossed(high, f"overdue_payment_days>={policy.risk_high_overdue_days}")
    elif overdue >= policy.risk_medium_overdue_days:
        crossed(medium, f"overdue_payment_days>={policy.risk_medium_overdue_days}")
    if indicators.credit_rating == "poor":
        crossed(high, "credit_rating=poor")
    elif indicators.credit_rating == "fair":
        crossed(medium, "credit_rating=fair")
    complaints = indicators.complaints_12m
    if complaints >= policy.risk_high_complaints:
        crossed(high, f"complaints_12m>={policy.risk_high_complaints}")
    elif complaints >= policy.risk_medium_complaints:
        crossed(medium, f"complaints_12m>={policy.risk_medium_complaints}")
    trend = indicators.purchase_trend
    drop = policy.risk_medium_purchase_drop
    if trend is not None and trend <= 1 - drop:
        crossed(medium, f"purchase_drop>={_plain(drop)}")

    level = "high" if high else "medium" if medium else "low"
    return level, reasons


def classify(facts: CustomerFacts, policy: ClassificationPolicy, today: date) -> Classification:
    """All derived fields of one customer on ``today`` (DOMAIN.md §1 "Classification")."""
    check_date("today", today)
    years = cooperation_years(facts.cooperation_start, today)
    components = score_components(facts, policy, today)
    score = composite_score(components, policy)
    level, reasons = assess_risk(facts.risk, policy)
    return Classification(
        size_tier=size_tier(facts.annual_purchase_amount, policy),
        cooperation_tier=cooperation_tier(years, policy),
        score=float(score),
        grade=grade_for_score(score, policy),
        risk_level=level,
        risk_reasons=reasons,
        cooperation_years=years,
        components={
            name: float(value.quantize(_TENTH, rounding=ROUND_HALF_UP))
            for name, value in components.items()
        },
    )


# --------------------------------------------------------------------------- re-grading


def annual_amount(declared: Decimal, purchases_last_12m: Decimal, has_purchases: bool) -> Decimal:
    """DOMAIN.md §6 "recorded purchases feed the annual purchase amount (trailing 12
    months)": once a customer has any recorded purchase, its annual purchase amount is the
    sum of its purchases of the last 12 months (0 when they all lie further back); before
    that, the amount typed in (``declared``) stands."""
    if not isinstance(has_purchases, bool):
        raise ValueError(f"has_purchases must be a bool, got {has_purchases!r}")
    if has_purchases:
        return _to_amount("purchases_last_12m", purchases_last_12m)
    return _to_amount("annual_purchase_amount", declared)


def regrade_due(graded_at: datetime | None, now: datetime, policy: ClassificationPolicy) -> bool:
    """DOMAIN.md §6 "re-evaluated every [period]": a customer is due for re-grading when it
    was never graded (``None``) or its last grading is at least ``regrade_every_days`` days
    (30) before ``now``. Both instants must be aware."""
    _check_aware("now", now)
    if graded_at is None:
        return True
    _check_aware("graded_at", graded_at)
    return now - graded_at >= timedelta(days=policy.regrade_every_days)


def regrade_cutoff(now: datetime, policy: ClassificationPolicy) -> datetime:
    """The latest last grading that is due at ``now`` (see :func:`regrade_due`)."""
    _check_aware("now", now)
    return now - timedelta(days=policy.regrade_every_days)


def _check_aware(name: str, value: Any) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")


# --------------------------------------------------------------------------- risk changes


def risk_changed(old_level: str | None, new_level: str) -> bool:
    """Whether a CustomerRiskChanged event is due: the level differs from the previous one
    (``None``: the customer had no level yet, so any level is a change)."""
    _check_level(new_level)
    if old_level is None:
        return True
    _check_level(old_level)
    return old_level != new_level


def raises_warning(old_level: str | None, new_level: str) -> bool:
    """DOMAIN.md §1 "crossing a threshold raises an early warning": true when the level went
    up (low → medium → high). A customer with no level yet counts as ``low`` before."""
    _check_level(new_level)
    before = "low" if old_level is None else old_level
    _check_level(before)
    return RISK_LEVELS.index(new_level) > RISK_LEVELS.index(before)


def measures_for(level: str) -> list[str]:
    """The measures a risk level asks for (DOMAIN.md §1, §6 "Risk"), carried on
    CustomerRiskChanged:

    * ``medium``: :data:`MEDIUM_RISK_MEASURES`, the watch plan — ``watch_plan``: the owner
      follows the customer up and reviews its payment behaviour every month;
    * ``high``: :data:`HIGH_RISK_MEASURES` — ``lower_credit_line``,
      ``shorten_payment_terms`` and ``require_guarantees`` (ask for guarantees);
    * ``low``: none."""
    _check_level(level)
    if level == "high":
        return list(HIGH_RISK_MEASURES)
    if level == "medium":
        return list(MEDIUM_RISK_MEASURES)
    return []


def _check_level(level: Any) -> None:
    check_choice("risk level", level, RISK_LEVELS)


def _clamp(value: Decimal) -> Decimal:
    return min(_HUNDRED, max(_ZERO, value))


def _plain(value: Decimal) -> str:
    """``Decimal('0.30')`` → ``'0.3'``, never in exponent notation."""
    return f"{value.normalize():f}"
