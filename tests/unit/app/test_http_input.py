"""Request bodies: 413 when too large, 400 with a reason per field, problems as JSON answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import pytest
from chalice.app import Request, Response

from chalicelib.handlers.http import MAX_BODY_BYTES, HttpProblem, answers_problems, parse_body
from chalicelib.scenarios.service import GenerateRequest


@dataclass
class StandIn:
    """Just what `parse_body` reads from a Chalice request."""

    raw_body: bytes | str | None


def parse(raw: bytes | str | None, max_bytes: int = MAX_BODY_BYTES) -> GenerateRequest:
    return parse_body(cast(Request, StandIn(raw)), GenerateRequest, max_bytes)


def problem_of(raw: bytes | str | None, max_bytes: int = MAX_BODY_BYTES) -> HttpProblem:
    """The `HttpProblem` parsing `raw` raises."""
    with pytest.raises(HttpProblem) as raised:
        parse(raw, max_bytes)
    return raised.value


@pytest.mark.parametrize(
    "raw", [b'{"scenarioType": "hotel", "seed": 7}', '{"scenarioType": "hotel", "seed": 7}']
)
def test_a_valid_body_as_bytes_or_text_is_parsed(raw: bytes | str) -> None:
    assert parse(raw) == GenerateRequest.model_validate({"scenarioType": "hotel", "seed": 7})


def test_the_seed_is_optional() -> None:
    assert parse(b'{"scenarioType": "bakery"}').seed is None


@pytest.mark.parametrize("raw", [b"x" * 101, "é" * 51], ids=["bytes", "text counted in bytes"])
def test_a_body_over_the_limit_is_413(raw: bytes | str) -> None:
    problem = problem_of(raw, max_bytes=100)
    assert problem.status == 413
    assert "100 bytes" in problem.message


def test_a_body_exactly_at_the_limit_is_read() -> None:
    body = b'{"scenarioType": "bakery"}'
    assert parse(body, max_bytes=len(body)).scenario_type == "bakery"


def test_the_default_limit_is_64_kib() -> None:
    padded = b'{"scenarioType": "bakery"}' + b" " * (MAX_BODY_BYTES - 25)
    assert problem_of(padded).status == 413


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe{}", "[1, 2"])
def test_a_body_that_is_not_json_is_400(raw: bytes | str) -> None:
    problem = problem_of(raw)
    assert problem.status == 400
    assert problem.message == "body is not valid JSON"
    assert problem.details["detail"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({"seed": 1}, ["scenarioType"], id="missing type"),
        pytest.param({"scenarioType": "bank"}, ["scenarioType"], id="unknown type"),
        pytest.param({"scenarioType": "hotel", "seed": -1}, ["seed"], id="negative seed"),
        pytest.param({"scenarioType": "hotel", "seed": "7"}, ["seed"], id="string seed"),
        pytest.param({"scenarioType": "hotel", "seed": 2**31}, ["seed"], id="seed too large"),
        pytest.param({"scenarioType": "hotel", "seed": 1.5}, ["seed"], id="float seed"),
        pytest.param({"scenarioType": "hotel", "colour": "red"}, ["colour"], id="extra field"),
        pytest.param(
            {"scenarioType": "bank", "seed": -1, "x": 1}, ["scenarioType", "seed", "x"], id="three"
        ),
    ],
)
def test_an_invalid_request_is_400_naming_each_bad_field(
    body: dict[str, Any], fields: list[str]
) -> None:
    problem = problem_of(json.dumps(body).encode())
    assert problem.status == 400
    assert problem.message == "invalid request"
    reported = problem.details["fields"]
    assert sorted(item["field"] for item in reported) == sorted(fields)
    assert all(item["reason"] for item in reported)


@pytest.mark.parametrize("raw", [None, b"", "", b"null", b"[]"])
def test_an_empty_or_non_object_body_is_400_about_the_body(raw: bytes | str | None) -> None:
    problem = problem_of(raw)
    assert problem.status == 400
    assert [item["field"] for item in problem.details["fields"]] == ["body"]


def test_answers_problems_turns_a_problem_into_its_json_answer() -> None:
    @answers_problems
    def view(scenario_id: str) -> Response:
        raise HttpProblem(409, f"{scenario_id} is completed", current="completed")

    response = view("abc")

    assert response.status_code == 409
    assert response.body == {"error": "abc is completed", "current": "completed"}
    assert response.headers["Cache-Control"] == "no-store"


def test_answers_problems_passes_answers_and_other_errors_through() -> None:
    answer = Response(body={"ok": True}, status_code=202)

    @answers_problems
    def fine() -> Response:
        return answer

    @answers_problems
    def broken() -> Response:
        raise KeyError("bug")

    assert fine() is answer
    assert fine.__name__ == "fine"
    with pytest.raises(KeyError):
        broken()


def test_a_parsing_problem_inside_a_view_is_answered_with_the_field_list() -> None:
    @answers_problems
    def generate() -> Response:
        request = parse(b'{"scenarioType": "bank"}')
        return Response(body={"type": request.scenario_type})

    response = generate()

    assert response.status_code == 400
    assert response.body["error"] == "invalid request"
    assert response.body["fields"][0]["field"] == "scenarioType"


def test_an_integer_too_long_for_python_is_a_400_not_a_crash() -> None:
    problem = problem_of(b'{"scenarioType": "bakery", "seed": ' + b"9" * 5000 + b"}")
    assert problem.status == 400
    assert problem.message == "body is not valid JSON"
