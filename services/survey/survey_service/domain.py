"""Survey rules: questionnaires, answers, one response's summary, and survey results.

DOMAIN.md §4 "Satisfaction surveys". The module uses the standard library (and the shared
:class:`revisit_common.errors.Invalid`) only, so the HTTP layer, the tests and any later
re-computation all call the same code.

Questions (:func:`build_questionnaire`) have an ``id`` (unique in the questionnaire, 1-64 of
``A-Z a-z 0-9 _ . -``), a ``kind``, a ``text`` and ``required`` (default false):

* ``rating``: an integer 1-5;
* ``nps``: an integer 0-10 ("how likely are you to recommend us");
* ``choice``: one of its ``options`` (2-20 distinct labels), or with ``multiple: true`` a
  list of distinct options (at least one);
* ``text``: free text, 1-2000 characters after trimming;
* ``satisfaction``: one of the five overall-satisfaction levels of DOMAIN.md §2
  (``very_satisfied`` ... ``very_dissatisfied``), the same scale as visits.

A null answer, an empty string and an empty list count as "not answered". An answer to an
unknown question is an error, as is a required question left unanswered or a response that
answers nothing at all.

**Overall satisfaction of a response** comes from the questionnaire's *satisfaction
question*: named by ``satisfaction_question``, or by default the first question of kind
``satisfaction`` or the first single ``choice`` whose options are exactly the five levels.
A named question may also be a ``rating``, read as 5 very_satisfied, 4 satisfied, 3 neutral,
2 dissatisfied, 1 very_dissatisfied. With no such question (or when it is not answered) the
response has no satisfaction level. Its **recommend score** is the answer to the
``recommend_question`` (an ``nps`` question; by default the first one), and its **average
rating** the mean of its ``rating`` answers.

**Results** (:func:`results`) are kept as a tally (:func:`new_tally`, :func:`add_to_tally`)
so a response updates them in constant work: per question the number of answers and the
count of each value; over the survey the average of all rating answers, the NPS over all
nps answers (% promoters 9-10 minus % detractors 0-6, -100..100, null with no answer) and
the count of responses at each satisfaction level, with ``satisfaction_rate`` = (very
satisfied + satisfied) / responses with a level, as in DOMAIN.md §5. Averages are rounded to
0.01, NPS to 0.1, the rate to 0.0001; every figure is null when nothing counts towards it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from revisit_common.errors import Invalid
from revisit_common.satisfaction import SATISFACTION_LEVELS

SATISFIED = ("very_satisfied", "satisfied")
# A rating named as the satisfaction question: 5 is very satisfied ... 1 very dissatisfied.
RATING_LEVELS = dict(zip(range(5, 0, -1), SATISFACTION_LEVELS, strict=True))
KINDS = ("rating", "nps", "choice", "text", "satisfaction")
SCALES: Mapping[str, range] = {"rating": range(1, 6), "nps": range(0, 11)}

MAX_QUESTIONS = 50
MAX_OPTIONS = 20
MAX_ID = 64
MAX_QUESTION_TEXT = 500
MAX_OPTION = 100
MAX_TEXT_ANSWER = 2000
QUESTION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SurveyError(Invalid):
    """Invalid input. ``errors`` maps a field (a question id for answers, a dotted path such
    as ``questions.2.options`` for questionnaires) to its messages, ready for a 422."""


class QuestionnaireError(SurveyError):
    pass


class AnswerError(SurveyError):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str
    options: tuple[str, ...] = ()
    multiple: bool = False
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "text": self.text}
        if self.kind == "choice":
            data["options"] = list(self.options)
            data["multiple"] = self.multiple
        data["required"] = self.required
        return data

    def is_level_choice(self) -> bool:
        return (
            self.kind == "choice"
            and not self.multiple
            and sorted(self.options) == sorted(SATISFACTION_LEVELS)
        )


@dataclass(frozen=True)
class Questionnaire:
    questions: tuple[Question, ...]
    satisfaction_question: str | None = None
    recommend_question: str | None = None

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": [q.to_dict() for q in self.questions],
            "satisfaction_question": self.satisfaction_question,
            "recommend_question": self.recommend_question,
        }


@dataclass(frozen=True)
class Summary:
    """What one response says overall (the SurveyResponded payload)."""

    satisfaction: str | None
    recommend_score: int | None
    average_rating: float | None


# --------------------------------------------------------------------------- questionnaires


def build_questionnaire(
    questions: Any,
    satisfaction_question: str | None = None,
    recommend_question: str | None = None,
) -> Questionnaire:
    """A validated questionnaire from JSON-like data; :class:`QuestionnaireError` if not."""
    errors: dict[str, list[str]] = {}
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        raise QuestionnaireError({"questions": [f"give 1 to {MAX_QUESTIONS} questions"]})
    built: list[Question] = []
    seen: set[str] = set()
    for index, raw in enumerate(questions):
        problems: dict[str, list[str]] = {}
        question = _question(raw, problems)
        if question is not None and question.id in seen:
            problems.setdefault("id", []).append(f"duplicate question id {question.id!r}")
        for name, messages in problems.items():
            errors[f"questions.{index}.{name}"] = messages
        if question is not None and not problems:
            seen.add(question.id)
            built.append(question)
    if errors:
        raise QuestionnaireError(errors)
    by_id = {q.id: q for q in built}
    satisfaction = _designated(
        "satisfaction_question",
        satisfaction_question,
        by_id,
        lambda q: q.kind in ("satisfaction", "rating") or q.is_level_choice(),
        "a satisfaction question, a rating, or a single choice of the five levels",
        default=lambda q: q.kind == "satisfaction" or q.is_level_choice(),
        errors=errors,
    )
    recommend = _designated(
        "recommend_question",
        recommend_question,
        by_id,
        lambda q: q.kind == "nps",
        "an nps question",
        default=lambda q: q.kind == "nps",
        errors=errors,
    )
    if errors:
        raise QuestionnaireError(errors)
    return Questionnaire(tuple(built), satisfaction, recommend)


def _designated(name, wanted, by_id, fits, what, *, default, errors) -> str | None:
    if wanted is None:
        return next((q.id for q in by_id.values() if default(q)), None)
    question = by_id.get(wanted) if isinstance(wanted, str) else None
    if question is None:
        errors[name] = ["must be the id of one of the questions"]
    elif not fits(question):
        errors[name] = [f"must be {what}"]
    return wanted


def _question(raw: Any, problems: dict[str, list[str]]) -> Question | None:
    if not isinstance(raw, Mapping):
        problems["_schema"] = ["must be an object"]
        return None
    unknown = set(raw) - {"id", "kind", "text", "options", "multiple", "required"}
    for key in sorted(map(str, unknown)):
        problems[key] = ["unknown field"]
    qid, kind, text = raw.get("id"), raw.get("kind"), raw.get("text")
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        problems["id"] = [f"1 to {MAX_ID} letters, digits, '_', '.' or '-'"]
    if kind not in KINDS:
        problems["kind"] = [f"must be one of {', '.join(KINDS)}"]
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_QUESTION_TEXT:
        problems["text"] = [f"1 to {MAX_QUESTION_TEXT} characters"]
    multiple, required = raw.get("multiple", False), raw.get("required", False)
    for key, value in (("multiple", multiple), ("required", required)):
        if not isinstance(value, bool):
            problems[key] = ["must be true or false"]
    options = raw.get("options")
    if kind == "choice":
        options = _options(options, problems)
    elif options is not None:
        problems["options"] = ["only choice questions have options"]
    if multiple is True and kind != "choice":
        problems["multiple"] = ["only choice questions can be multiple"]
    if problems:
        return None
    return Question(
        qid, kind, text.strip(), tuple(options or ()), multiple is True, required is True
    )


def _options(options: Any, problems: dict[str, list[str]]) -> tuple[str, ...]:
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        problems["options"] = [f"a choice question needs 2 to {MAX_OPTIONS} options"]
        return ()
    if not all(isinstance(o, str) and 1 <= len(o.strip()) <= MAX_OPTION for o in options):
        problems["options"] = [f"each option is 1 to {MAX_OPTION} characters"]
        return ()
    cleaned = tuple(o.strip() for o in options)
    if len(set(cleaned)) != len(cleaned):
        problems["options"] = ["options must be distinct"]
    return cleaned


# --------------------------------------------------------------------------- answers


def validate_answers(questionnaire: Questionnaire, answers: Any) -> dict[str, Any]:
    """The answers, checked and normalised (unanswered questions dropped, text trimmed);
    :class:`AnswerError` with the problems of each question otherwise."""
    if not isinstance(answers, Mapping):
        raise AnswerError({"_schema": ["answers must be an object of question id → answer"]})
    questions = questionnaire.by_id()
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for qid, value in answers.items():
        question = questions.get(qid) if isinstance(qid, str) else None
        if question is None:
            errors[str(qid)] = ["unknown question"]
            continue
        if _unanswered(value):
            continue
        problem = _check_answer(question, value)
        if problem:
            errors[qid] = [problem]
        else:
            clean[qid] = value.strip() if isinstance(value, str) else value
    for question in questionnaire.questions:
        if question.required and question.id not in clean and question.id not in errors:
            errors[question.id] = ["an answer is required"]
    if not errors and not clean:
        errors["_schema"] = ["answer at least one question"]
    if errors:
        raise AnswerError(errors)
    return {q.id: clean[q.id] for q in questionnaire.questions if q.id in clean}


def _unanswered(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _check_answer(question: Question, value: Any) -> str | None:
    kind = question.kind
    if kind in SCALES:
        scale = SCALES[kind]
        if isinstance(value, bool) or not isinstance(value, int) or value not in scale:
            return f"must be a whole number from {scale.start} to {scale.stop - 1}"
    elif kind == "satisfaction":
        if value not in SATISFACTION_LEVELS:
            return f"must be one of {', '.join(SATISFACTION_LEVELS)}"
    elif kind == "text":
        if not isinstance(value, str) or len(value.strip()) > MAX_TEXT_ANSWER:
            return f"must be text of at most {MAX_TEXT_ANSWER} characters"
    elif question.multiple:
        if not isinstance(value, list) or not all(v in question.options for v in value):
            return "must be a list of the question's options"
        if len(set(value)) != len(value):
            return "an option may be chosen once"
    elif not isinstance(value, str) or value not in question.options:
        return "must be one of the question's options"
    return None


def summarize(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Summary:
    """Overall satisfaction, recommend score and average rating of valid answers."""
    questions = questionnaire.by_id()
    level = None
    chosen = questionnaire.satisfaction_question
    if chosen is not None and chosen in answers:
        value = answers[chosen]
        level = RATING_LEVELS[value] if questions[chosen].kind == "rating" else value
    recommend = answers.get(questionnaire.recommend_question or "")
    ratings = [
        answers[q.id] for q in questionnaire.questions if q.kind == "rating" and q.id in answers
    ]
    average = round(sum(ratings) / len(ratings), 2) if ratings else None
    return Summary(level, recommend, average)


# --------------------------------------------------------------------------- results


def _value_keys(question: Question) -> tuple[str, ...]:
    if question.kind in SCALES:
        return tuple(str(v) for v in SCALES[question.kind])
    if question.kind == "satisfaction":
        return SATISFACTION_LEVELS
    return question.options


def new_tally(questionnaire: Questionnaire) -> dict[str, Any]:
    """An empty tally (JSON-ready) for the questionnaire."""
    return {
        "responses": 0,
        "satisfaction": dict.fromkeys(SATISFACTION_LEVELS, 0),
        "questions": {
            q.id: {"answered": 0, "counts": dict.fromkeys(_value_keys(q), 0)}
            for q in questionnaire.questions
        },
    }


def add_to_tally(
    tally: Mapping[str, Any], questionnaire: Questionnaire, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """A new tally with one more response (``answers`` already validated)."""
    result = copy.deepcopy(dict(tally))
    result["responses"] += 1
    level = summarize(questionnaire, answers).satisfaction
    if level is not None:
        result["satisfaction"][level] += 1
    for question in questionnaire.questions:
        if question.id not in answers:
            continue
        entry = result["questions"][question.id]
        entry["answered"] += 1
        value = answers[question.id]
        if question.kind == "text":
            continue
        for key in value if question.multiple else [value]:
            entry["counts"][str(key)] += 1
    return result


def tally_of(questionnaire: Questionnaire, responses: Iterable[Mapping[str, Any]]) -> dict:
    tally = new_tally(questionnaire)
    for answers in responses:
        tally = add_to_tally(tally, questionnaire, answers)
    return tally


def nps(counts: Mapping[int, int]) -> float | None:
    """% promoters (9-10) − % detractors (0-6), rounded to 0.1; None with no answer."""
    total = sum(counts.values())
    if total == 0:
        return None
    promoters = sum(n for score, n in counts.items() if score >= 9)
    detractors = sum(n for score, n in counts.items() if score <= 6)
    return round(100 * (promoters - detractors) / total, 1)


def _mean(counts: Mapping[int, int]) -> float | None:
    total = sum(counts.values())
    return round(sum(k * n for k, n in counts.items()) / total, 2) if total else None


def results(questionnaire: Questionnaire, tally: Mapping[str, Any]) -> dict[str, Any]:
    """The survey's results from its tally (CONTRACT.md §1 "Surveys")."""
    by_kind: dict[str, dict[int, int]] = {"rating": {}, "nps": {}}
    questions: dict[str, Any] = {}
    for question in questionnaire.questions:
        entry = tally["questions"][question.id]
        out: dict[str, Any] = {
            "kind": question.kind,
            "answered": entry["answered"],
            "counts": dict(entry["counts"]),
        }
        if question.kind in SCALES:
            numeric = {int(k): n for k, n in entry["counts"].items()}
            for score, n in numeric.items():
                by_kind[question.kind][score] = by_kind[question.kind].get(score, 0) + n
            out["average"] = _mean(numeric)
            if question.kind == "nps":
                out["nps"] = nps(numeric)
        questions[question.id] = out
    levels = dict(tally["satisfaction"])
    rated = sum(levels.values())
    return {
        "responses": tally["responses"],
        "average_rating": _mean(by_kind["rating"]),
        "nps": nps(by_kind["nps"]),
        "satisfaction": levels,
        "satisfaction_rate": round(sum(levels[k] for k in SATISFIED) / rated, 4) if rated else None,
        "questions": questions,
    }
