"""The client's commands: each calls the API, shows the outcome and returns an exit code.

API problems are not handled here but raised: `exit_code_for` turns any of them into its
message and exit code, the same way for every command.
"""

from __future__ import annotations

from dataclasses import dataclass

from longhaul_cli.api import (
    ApiError,
    ConflictError,
    GenerationAccepted,
    InvalidRequestError,
    LonghaulApi,
    NotFoundError,
    RateLimitedError,
    ScenarioResult,
    ServerError,
    UnreachableError,
)
from longhaul_cli.exit_codes import ExitCode
from longhaul_cli.render import Terminal
from longhaul_cli.watch import WatchSettings, watch_scenario


@dataclass(frozen=True)
class CommandLine:
    """Builds the commands the client suggests (resume, retry, next page).

    `url_option` is `--url X` when the user passed one, so a suggested command reaches the
    same API; it is empty when the URL came from the environment or the default.
    """

    url_option: str = ""

    def command(self, *words: str) -> str:
        """`longhaul WORDS... [--url X]`."""
        return " ".join(("longhaul", *words, *([self.url_option] if self.url_option else [])))


def _started(
    api: LonghaulApi,
    terminal: Terminal,
    accepted: GenerationAccepted,
    *,
    follow: bool,
    as_json: bool,
    watch: WatchSettings,
    line: CommandLine,
) -> ExitCode:
    """A generation was accepted (new, or a retry): print where to watch it, or watch it."""
    if as_json:
        terminal.json(accepted.model_dump(mode="json", by_alias=True))
        return ExitCode.OK
    terminal.accepted(accepted, api.base_url)
    if not follow:
        terminal.note(f"Watch it with: {line.command('status', accepted.scenario_id, '--follow')}")
        return ExitCode.OK
    return follow_scenario(api, terminal, accepted.scenario_id, watch=watch, line=line)


def generate(
    api: LonghaulApi,
    terminal: Terminal,
    *,
    scenario_type: str,
    seed: int | None,
    follow: bool,
    as_json: bool,
    watch: WatchSettings,
    line: CommandLine,
) -> ExitCode:
    """Start a generation; print where to watch it, or watch it."""
    # The type is not checked here: the API is the authority on which types exist, and its
    # 400 names the valid ones.
    accepted = api.generate(scenario_type, seed)
    return _started(api, terminal, accepted, follow=follow, as_json=as_json, watch=watch, line=line)


def status(
    api: LonghaulApi,
    terminal: Terminal,
    *,
    scenario_id: str,
    follow: bool,
    as_json: bool,
    watch: WatchSettings,
    line: CommandLine,
) -> ExitCode:
    """Show a scenario's status once, or watch it until it finishes."""
    if follow:
        return follow_scenario(api, terminal, scenario_id, watch=watch, line=line)
    current = api.status(scenario_id).status
    if current is None:  # Only a conditional request can be answered 304; this one is not.
        raise ApiError("the API answered 304 to an unconditional request")
    if as_json:
        terminal.json(current.model_dump(mode="json", by_alias=True))
    else:
        terminal.status(current)
    return ExitCode.OK


def retry(
    api: LonghaulApi,
    terminal: Terminal,
    *,
    scenario_id: str,
    follow: bool,
    as_json: bool,
    watch: WatchSettings,
    line: CommandLine,
) -> ExitCode:
    """Start a new run of a failed scenario; print where to watch it, or watch it."""
    accepted = api.retry(scenario_id)
    return _started(api, terminal, accepted, follow=follow, as_json=as_json, watch=watch, line=line)


def events(
    api: LonghaulApi,
    terminal: Terminal,
    *,
    scenario_id: str,
    limit: int | None,
    cursor: str | None,
    as_json: bool,
    line: CommandLine,
) -> ExitCode:
    """Show one page of a scenario's events."""
    page = api.events(scenario_id, limit=limit, cursor=cursor)
    if as_json:
        terminal.json(page.model_dump(mode="json", by_alias=True))
        return ExitCode.OK
    # The currency and year live on the profile: one more read, worth it for readable amounts
    # and dates, and skipped (plain amounts) if it fails.
    profile = None
    if page.events:
        try:
            profile = api.scenario(scenario_id).profile
        except ApiError:
            profile = None
    next_command = None
    if page.next_cursor:
        limit_words = ("--limit", str(limit)) if limit is not None else ()
        next_command = line.command(
            "events", scenario_id, *limit_words, "--cursor", page.next_cursor
        )
    terminal.events(page.events, profile, next_command)
    return ExitCode.OK


def follow_scenario(
    api: LonghaulApi,
    terminal: Terminal,
    scenario_id: str,
    *,
    watch: WatchSettings,
    line: CommandLine,
) -> ExitCode:
    """Watch a scenario with a progress display until it completes, fails or time runs out.

    Ctrl-C ends the watch only: the generation runs in the worker, not in this process.
    """
    resume = line.command("status", scenario_id, "--follow")
    try:
        with terminal.progress() as display:
            outcome = watch_scenario(api, scenario_id, display, settings=watch)
    except KeyboardInterrupt:
        terminal.error(f"Stopped watching; the generation goes on. Resume with: {resume}")
        return ExitCode.INTERRUPTED
    last = outcome.status
    if outcome.result == "completed" and last is not None:
        result: ScenarioResult | None
        try:
            result = api.scenario(scenario_id)
        except ApiError:
            result = None  # The generation is done either way; show what the status says.
        terminal.summary(last, result, outcome.elapsed)
        return ExitCode.OK
    if outcome.result == "failed" and last is not None:
        terminal.failed(last, line.command("retry", scenario_id, "--follow"))
        return ExitCode.SCENARIO_FAILED
    terminal.error(
        f"Gave up watching after {outcome.elapsed:.0f} s (--timeout); the generation may still"
        f" be running. Resume with: {resume}"
    )
    return ExitCode.INVALID_OR_TIMED_OUT


def exit_code_for(error: ApiError, terminal: Terminal, line: CommandLine) -> ExitCode:
    """Show an API problem in words and return the exit code it stands for."""
    if isinstance(error, InvalidRequestError):
        terminal.field_problems(f"Refused: {error.message}", error.fields)
        return ExitCode.INVALID_OR_TIMED_OUT
    if isinstance(error, NotFoundError):
        terminal.error("no such scenario")
        return ExitCode.NOT_FOUND
    if isinstance(error, ConflictError):
        terminal.error(error.message)
        return ExitCode.CONFLICT
    if isinstance(error, RateLimitedError):
        wait = f"{error.retry_after} s" if error.retry_after is not None else "a moment"
        terminal.error(f"rate limited; retry in {wait}")
        return ExitCode.RATE_LIMITED
    if isinstance(error, UnreachableError):
        terminal.error(
            f"{error.message}\nIs the app running? Point the client at it with --url or"
            " LONGHAUL_URL."
        )
        return ExitCode.UNREACHABLE
    terminal.error(f"The API answered an error ({error.status_code or 'no status'}): {error}")
    if isinstance(error, ServerError):
        scenario_id = error.details.get("scenarioId")
        if isinstance(scenario_id, str) and error.details.get("retryUrl"):
            terminal.error(f"Retry with: {line.command('retry', scenario_id, '--follow')}")
    return ExitCode.API_ERROR
