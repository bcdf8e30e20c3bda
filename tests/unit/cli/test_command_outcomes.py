"""How problems and results are shown, and the exit code each one gives."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from longhaul_cli.api import (
    ApiError,
    ConflictError,
    FieldProblem,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnreachableError,
)
from longhaul_cli.commands import CommandLine, exit_code_for
from longhaul_cli.exit_codes import ExitCode
from longhaul_cli.render import Terminal, format_money


def terminal() -> tuple[Terminal, io.StringIO]:
    captured = io.StringIO()
    console = Console(file=captured, width=200, highlight=False, soft_wrap=True)
    return Terminal(out=console, err=console), captured


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (
            InvalidRequestError("invalid request", [FieldProblem(field="seed", reason="too big")]),
            ExitCode.INVALID_OR_TIMED_OUT,
            "seed: too big",
        ),
        (
            NotFoundError("no such scenario", status_code=404),
            ExitCode.NOT_FOUND,
            "no such scenario",
        ),
        (ConflictError("this one is completed", status_code=409), ExitCode.CONFLICT, "completed"),
        (RateLimitedError("slow down", retry_after=7), ExitCode.RATE_LIMITED, "retry in 7 s"),
        (UnreachableError("cannot reach the API"), ExitCode.UNREACHABLE, "LONGHAUL_URL"),
        (
            ServerError(
                "could not be queued",
                status_code=503,
                details={"scenarioId": "s1", "retryUrl": "/r"},
            ),
            ExitCode.API_ERROR,
            "Retry with: longhaul retry s1 --follow --url http://x",
        ),
    ],
)
def test_each_problem_has_its_words_and_exit_code(
    error: ApiError, code: ExitCode, words: str
) -> None:
    shown, captured = terminal()
    assert exit_code_for(error, shown, CommandLine("--url http://x")) == code
    assert words in captured.getvalue()


def test_money_is_shown_with_the_currency_when_known() -> None:
    assert format_money(123456, "EUR") == "€1,234.56"
    assert format_money(-5, "USD") == "-$0.05"
    assert format_money(100, "CHF") == "1.00 CHF"
    assert format_money(123456789) == "1,234,567.89"
