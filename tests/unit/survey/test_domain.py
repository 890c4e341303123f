"""Unit tests of the survey rules (DOMAIN.md §4): questionnaires, answers, results."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_service.domain import (
    SATISFACTION_LEVELS,
    AnswerError,
    QuestionnaireError,
    add_to_tally,
    build_questionnaire,
    new_tally,
    nps,
    results,
    summarize,
    tally_of,
    validate_answers,
)
from tests.support.surveys import QUESTIONS as SURVEY_QUESTIONS

LEVELS = list(SATISFACTION_LEVELS)
# The questionnaire of the API tests, with a single-choice question among them.
QUESTIONS = [
    *SURVEY_QUESTIONS[:4],
    {
        "id": "channel",
        "kind": "choice",
        "text": "How did you hear of us?",
        "options": ["web", "fair", "friend"],
    },
    *SURVEY_QUESTIONS[4:],
]
Q = build_questionnaire(QUESTIONS)


def errors_of(exc_info) -> dict:
    return exc_info.value.errors


# --------------------------------------------------------------------------- questionnaires


def test_questionnaire_defaults_designate_satisfaction_and_recommend():
    assert Q.satisfaction_question == "overall"
    assert Q.recommend_question == "recommend"
    assert [q.id for q in Q.questions] == [q["id"] for q in QUESTIONS]
    assert Q.by_id()["likes"].multiple is True
    assert Q.by_id()["attitude"].required is True


def test_questionnaire_round_trips_through_json():
    again = build_questionnaire(
        json.loads(json.dumps(Q.to_dict()["questions"])),
        Q.satisfaction_question,
        Q.recommend_question,
    )
    assert again == Q


def test_questionnaire_without_satisfaction_or_nps_designates_none():
    q = build_questionnaire([{"id": "a", "kind": "rating", "text": "A"}])
    assert (q.satisfaction_question, q.recommend_question) == (None, None)


def test_level_choice_is_a_default_satisfaction_question():
    q = build_questionnaire(
        [
            {"id": "x", "kind": "choice", "text": "X", "options": ["a", "b"]},
            {"id": "lvl", "kind": "choice", "text": "How?", "options": list(reversed(LEVELS))},
        ]
    )
    assert q.satisfaction_question == "lvl"


def test_rating_may_be_named_satisfaction_question():
    q = build_questionnaire(QUESTIONS, satisfaction_question="attitude")
    assert q.satisfaction_question == "attitude"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("satisfaction_question", "nope", "must be the id of one of the questions"),
        ("satisfaction_question", "comment", "must be a satisfaction question"),
        ("satisfaction_question", "channel", "must be a satisfaction question"),
        ("recommend_question", "attitude", "must be an nps question"),
    ],
)
def test_designated_question_must_fit(name, value, message):
    with pytest.raises(QuestionnaireError) as exc:
        build_questionnaire(QUESTIONS, **{name: value})
    assert errors_of(exc)[name][0].startswith(message)


@pytest.mark.parametrize(
    "question, field",
    [
        ({"id": "a b", "kind": "text", "text": "T"}, "id"),
        ({"id": "x" * 65, "kind": "text", "text": "T"}, "id"),
        ({"id": 7, "kind": "text", "text": "T"}, "id"),
        ({"id": "a", "kind": "slider", "text": "T"}, "kind"),
        ({"id": "a", "kind": "text", "text": "  "}, "text"),
        ({"id": "a", "kind": "text", "text": "x" * 501}, "text"),
        ({"id": "a", "kind": "choice", "text": "T"}, "options"),
        ({"id": "a", "kind": "choice", "text": "T", "options": ["only"]}, "options"),
        ({"id": "a", "kind": "choice", "text": "T", "options": ["a", "a"]}, "options"),
        ({"id": "a", "kind": "choice", "text": "T", "options": ["a", ""]}, "options"),
        (
            {"id": "a", "kind": "choice", "text": "T", "options": [str(i) for i in range(21)]},
            "options",
        ),
        ({"id": "a", "kind": "rating", "text": "T", "options": ["a", "b"]}, "options"),
        ({"id": "a", "kind": "rating", "text": "T", "multiple": True}, "multiple"),
        ({"id": "a", "kind": "rating", "text": "T", "required": "yes"}, "required"),
        ({"id": "a", "kind": "rating", "text": "T", "colour": "red"}, "colour"),
    ],
)
def test_invalid_question_is_reported_by_field(question, field):
    with pytest.raises(QuestionnaireError) as exc:
        build_questionnaire([{"id": "ok", "kind": "text", "text": "fine"}, question])
    assert list(errors_of(exc)) == [f"questions.1.{field}"]


def test_question_ids_must_be_unique():
    with pytest.raises(QuestionnaireError) as exc:
        build_questionnaire([{"id": "a", "kind": "text", "text": "T"}] * 2)
    assert "duplicate" in errors_of(exc)["questions.1.id"][0]


@pytest.mark.parametrize(
    "questions", [[], None, "x", [{"id": "a", "kind": "text", "text": "T"}] * 51]
)
def test_question_count_is_bounded(questions):
    with pytest.raises(QuestionnaireError) as exc:
        build_questionnaire(questions)
    assert "questions" in errors_of(exc)


def test_not_an_object_question():
    with pytest.raises(QuestionnaireError) as exc:
        build_questionnaire(["what?"])
    assert errors_of(exc) == {"questions.0._schema": ["must be an object"]}


# --------------------------------------------------------------------------- answers


def test_valid_answers_are_normalised():
    clean = validate_answers(
        Q,
        {
            "comment": "  good  ",
            "attitude": 4,
            "likes": ["service", "price"],
            "channel": "web",
            "overall": "satisfied",
            "recommend": 0,
            "speed": None,
        },
    )
    assert clean == {
        "overall": "satisfied",
        "attitude": 4,
        "recommend": 0,
        "channel": "web",
        "likes": ["service", "price"],
        "comment": "good",
    }
    assert list(clean) == ["overall", "attitude", "recommend", "channel", "likes", "comment"]


@pytest.mark.parametrize(
    "qid, value",
    [
        ("attitude", 0),
        ("attitude", 6),
        ("attitude", 4.0),
        ("attitude", True),
        ("attitude", "4"),
        ("recommend", 11),
        ("recommend", -1),
        ("channel", "tv"),
        ("channel", ["web"]),
        ("likes", "price"),
        ("likes", ["price", "price"]),
        ("likes", ["price", "gold"]),
        ("overall", "happy"),
        ("comment", 42),
        ("comment", "x" * 2001),
    ],
)
def test_invalid_answer_is_reported_per_question(qid, value):
    answers = {"attitude": 3, qid: value}
    with pytest.raises(AnswerError) as exc:
        validate_answers(Q, answers)
    assert list(errors_of(exc)) == [qid]


def test_unknown_and_missing_required_are_reported_together():
    with pytest.raises(AnswerError) as exc:
        validate_answers(Q, {"bogus": 1, "speed": 9})
    assert errors_of(exc) == {
        "bogus": ["unknown question"],
        "speed": ["must be a whole number from 1 to 5"],
        "attitude": ["an answer is required"],
    }


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_empty_answer_counts_as_unanswered(empty):
    with pytest.raises(AnswerError) as exc:
        validate_answers(Q, {"attitude": empty})
    assert errors_of(exc) == {"attitude": ["an answer is required"]}


def test_a_response_must_answer_something():
    q = build_questionnaire([{"id": "a", "kind": "text", "text": "T"}])
    with pytest.raises(AnswerError) as exc:
        validate_answers(q, {})
    assert errors_of(exc) == {"_schema": ["answer at least one question"]}
    with pytest.raises(AnswerError):
        validate_answers(q, ["a"])


# --------------------------------------------------------------------------- one response


def test_summary_of_a_response():
    s = summarize(Q, {"overall": "very_satisfied", "attitude": 4, "speed": 5, "recommend": 9})
    assert (s.satisfaction, s.recommend_score, s.average_rating) == ("very_satisfied", 9, 4.5)
    empty = summarize(Q, {"comment": "hi"})
    assert (empty.satisfaction, empty.recommend_score, empty.average_rating) == (None, None, None)


@pytest.mark.parametrize(
    "rating, level",
    [(5, LEVELS[0]), (4, LEVELS[1]), (3, LEVELS[2]), (2, LEVELS[3]), (1, LEVELS[4])],
)
def test_rating_satisfaction_question_maps_to_levels(rating, level):
    q = build_questionnaire(QUESTIONS, satisfaction_question="speed")
    assert summarize(q, {"attitude": 1, "speed": rating}).satisfaction == level


def test_average_rating_rounds_to_two_places():
    q = build_questionnaire([{"id": f"r{i}", "kind": "rating", "text": "R"} for i in range(3)])
    assert summarize(q, {"r0": 1, "r1": 1, "r2": 2}).average_rating == 1.33


# --------------------------------------------------------------------------- results


@pytest.mark.parametrize(
    "scores, expected",
    [
        ({}, None),
        ({10: 1}, 100.0),
        ({0: 3}, -100.0),
        ({7: 5, 8: 5}, 0.0),
        ({9: 2, 6: 1, 7: 1}, 25.0),
        ({10: 1, 0: 2}, -33.3),
    ],
)
def test_nps(scores, expected):
    assert nps(scores) == expected


def test_results_of_no_responses():
    out = results(Q, new_tally(Q))
    assert out["responses"] == 0
    assert (out["average_rating"], out["nps"], out["satisfaction_rate"]) == (None, None, None)
    assert out["satisfaction"] == dict.fromkeys(LEVELS, 0)
    assert out["questions"]["attitude"]["counts"] == {str(i): 0 for i in range(1, 6)}
    assert out["questions"]["recommend"]["counts"] == {str(i): 0 for i in range(11)}
    assert out["questions"]["likes"]["counts"] == {"price": 0, "quality": 0, "service": 0}
    assert out["questions"]["comment"] == {"kind": "text", "answered": 0, "counts": {}}


def test_results_of_known_answers():
    tally = tally_of(
        Q,
        [
            {"overall": "very_satisfied", "attitude": 5, "speed": 4, "recommend": 10},
            {"overall": "dissatisfied", "attitude": 2, "recommend": 3, "likes": ["price"]},
            {"attitude": 3, "recommend": 8, "likes": ["price", "service"], "comment": "ok"},
        ],
    )
    out = results(Q, tally)
    assert out["responses"] == 3
    assert out["average_rating"] == 3.5  # (5 + 4 + 2 + 3) / 4
    assert out["nps"] == 0.0  # one promoter, one detractor, one passive
    assert out["satisfaction"]["very_satisfied"] == 1
    assert out["satisfaction"]["dissatisfied"] == 1
    assert out["satisfaction_rate"] == 0.5
    assert out["questions"]["attitude"]["average"] == 3.33
    assert out["questions"]["recommend"]["nps"] == 0.0
    assert out["questions"]["likes"] == {
        "kind": "choice",
        "answered": 2,
        "counts": {"price": 2, "quality": 0, "service": 1},
    }
    assert out["questions"]["comment"]["answered"] == 1


def test_add_to_tally_leaves_its_input_alone():
    tally = new_tally(Q)
    before = json.dumps(tally, sort_keys=True)
    add_to_tally(tally, Q, {"attitude": 5})
    assert json.dumps(tally, sort_keys=True) == before


# --------------------------------------------------------------------------- properties


def answers_for(questionnaire):
    """Hypothesis strategy: valid answers to a questionnaire (some questions skipped)."""
    parts = {}
    for q in questionnaire.questions:
        if q.kind == "rating":
            value = st.integers(1, 5)
        elif q.kind == "nps":
            value = st.integers(0, 10)
        elif q.kind == "satisfaction":
            value = st.sampled_from(LEVELS)
        elif q.kind == "text":
            value = st.text(min_size=1, max_size=20).filter(str.strip).map(str.strip)
        elif q.multiple:
            value = st.lists(st.sampled_from(q.options), min_size=1, unique=True)
        else:
            value = st.sampled_from(q.options)
        parts[q.id] = value if q.required else st.one_of(st.none(), value)
    return (
        st.fixed_dictionaries(parts)
        .map(lambda d: {k: v for k, v in d.items() if v is not None})
        .filter(bool)
    )


def recompute(questionnaire, responses):
    """The results straight from the definitions, to compare with the tally's."""
    ratings = [
        r[q.id]
        for r in responses
        for q in questionnaire.questions
        if q.kind == "rating" and q.id in r
    ]
    scores = [
        r[q.id] for r in responses for q in questionnaire.questions if q.kind == "nps" and q.id in r
    ]
    levels = [summarize(questionnaire, r).satisfaction for r in responses]
    return {
        "responses": len(responses),
        "average_rating": sum(ratings) / len(ratings) if ratings else None,
        "nps": (
            100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
            if scores
            else None
        ),
        "satisfaction": {level: levels.count(level) for level in LEVELS},
    }


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_tally_equals_recomputation(data):
    responses = data.draw(st.lists(answers_for(Q), max_size=30))
    out = results(Q, tally_of(Q, responses))
    want = recompute(Q, responses)
    assert out["responses"] == want["responses"]
    assert out["satisfaction"] == want["satisfaction"]
    for key, places in (("average_rating", 0.005), ("nps", 0.05)):
        if want[key] is None:
            assert out[key] is None
        else:
            assert out[key] == pytest.approx(want[key], abs=places)
            assert -100 <= out[key] <= 100
    for q in Q.questions:
        answered = [r[q.id] for r in responses if q.id in r]
        assert out["questions"][q.id]["answered"] == len(answered)
        if q.kind == "choice" and q.multiple:
            for option in q.options:
                assert out["questions"][q.id]["counts"][option] == sum(
                    option in a for a in answered
                )
        elif q.kind != "text":
            for key, n in out["questions"][q.id]["counts"].items():
                assert n == sum(str(a) == key for a in answered)
    for r in responses:  # every generated answer set is valid as it is
        assert validate_answers(Q, r) == r


@given(st.dictionaries(st.integers(0, 10), st.integers(0, 50)))
def test_nps_is_bounded(counts):
    value = nps(counts)
    if sum(counts.values()) == 0:
        assert value is None
    else:
        assert -100 <= value <= 100


@given(
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none()))
)
def test_validation_never_crashes_on_junk(answers):
    try:
        clean = validate_answers(Q, answers)
    except AnswerError as exc:
        assert exc.errors
    else:
        assert set(clean) <= {q.id for q in Q.questions}
