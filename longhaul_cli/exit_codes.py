"""What the client's exit status means, so scripts can tell outcomes apart without parsing."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit status of every command."""

    OK = 0
    SCENARIO_FAILED = 1
    # argparse exits 2 on a bad command line too: all three mean "this request cannot succeed
    # as given", which a script handles the same way.
    INVALID_OR_TIMED_OUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    RATE_LIMITED = 5
    UNREACHABLE = 6
    API_ERROR = 7
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done (a followed generation completed)",
    ExitCode.SCENARIO_FAILED: "the followed generation failed",
    ExitCode.INVALID_OR_TIMED_OUT: (
        "invalid request (bad command line, or the API's 400), or --timeout ran out while watching"
    ),
    ExitCode.NOT_FOUND: "no such scenario",
    ExitCode.CONFLICT: "the scenario is not in a state that allows this (e.g. retry of a "
    "scenario that did not fail)",
    ExitCode.RATE_LIMITED: "rate limited; try again after the delay shown",
    ExitCode.UNREACHABLE: "the API could not be reached",
    ExitCode.API_ERROR: "the API answered an error the client did not expect (e.g. a 5xx)",
    ExitCode.INTERRUPTED: "Ctrl-C: watching stopped (the generation itself goes on)",
}


def exit_codes_epilog() -> str:
    """The exit codes as the `--help` epilog lists them."""
    lines = ["exit codes:"]
    lines.extend(f"  {int(code):<4} {MEANINGS[code]}" for code in ExitCode)
    return "\n".join(lines)
