"""Everything the client shows a person, with rich.

Normal output goes to stdout, problems to stderr. Text that comes from the API (messages,
errors, descriptions) is always shown as plain text, never parsed as rich markup. `--json`
output bypasses rich entirely so it stays byte-for-byte machine-readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from longhaul_cli.api import (
    BusinessEvent,
    CompanyProfile,
    FieldProblem,
    GenerationAccepted,
    RateLimitedError,
    ScenarioResult,
    ScenarioStatus,
    UnreachableError,
)
from longhaul_cli.watch import TransientError

CURRENCY_SYMBOLS: Final = MappingProxyType({"EUR": "€", "USD": "$", "GBP": "£", "CAD": "CA$"})
UNREACHABLE_MESSAGE: Final = "API unreachable, retrying..."


def format_money(cents: int, currency: str | None = None) -> str:
    """Cents as money: `€1,234.56` for a known currency, `1,234.56 XYZ` for another one,
    `1,234.56` when the currency is unknown."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    amount = f"{units:,}.{rest:02d}"
    if currency is None:
        return f"{sign}{amount}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def event_date(event: BusinessEvent, profile: CompanyProfile | None) -> str:
    """The event's date: ISO with the profile's fiscal year, else month-day."""
    if profile is None:
        return f"{event.month:02d}-{event.day:02d}"
    return f"{profile.fiscal_year:04d}-{event.month:02d}-{event.day:02d}"


class Terminal:
    """Where the client writes: stdout for results, stderr for problems."""

    def __init__(self, out: Console | None = None, err: Console | None = None) -> None:
        # Highlighting would colour numbers and ids at random in API-provided text; soft wrap
        # keeps long lines (commands to copy, URLs) whole instead of breaking them at 80.
        self.out = out or Console(highlight=False, soft_wrap=True)
        self.err = err or Console(stderr=True, highlight=False, soft_wrap=True)

    def json(self, data: Any) -> None:
        """Machine-readable output: indented JSON and a newline, nothing else."""
        self.out.file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.out.file.flush()

    def accepted(self, accepted: GenerationAccepted, base_url: str) -> None:
        """A generation (or a retry's new run) was handed to the worker."""
        run = f" (run {accepted.run})" if accepted.run else ""
        how = "queued" if accepted.queued else f"running without the queue ({accepted.fallback})"
        self.out.print(Text(f"Scenario {accepted.scenario_id}{run}: {how}"))
        self.out.print(Text(f"Status: {base_url}{accepted.status_url}"))

    def status(self, status: ScenarioStatus) -> None:
        """A one-shot status, as a short key-value list."""
        grid = _Fields()
        grid.add_row("scenario", Text(status.scenario_id))
        grid.add_row("type", Text(status.scenario_type))
        grid.add_row("status", Text(status.status, style=_status_style(status.status)))
        grid.add_row("progress", Text(f"{status.progress}%  {status.message}"))
        grid.add_row("events", f"{status.events_count:,}")
        grid.add_row("created", status.created_at.isoformat(timespec="seconds"))
        grid.add_row("updated", status.updated_at.isoformat(timespec="seconds"))
        if status.completed_at:
            grid.add_row("completed", status.completed_at.isoformat(timespec="seconds"))
        if status.error:
            grid.add_row("error", Text(status.error, style="red"))
        grid.print(self.out)

    def summary(
        self, status: ScenarioStatus, result: ScenarioResult | None, elapsed: float
    ) -> None:
        """What a completed generation produced; `result` is None if it could not be read."""
        self.out.print(
            Text(f"Completed {status.scenario_type} scenario {status.scenario_id}", style="green")
        )
        grid = _Fields()
        grid.add_row("type", Text(status.scenario_type))
        if result is not None and result.profile is not None:
            grid.add_row("company", Text(result.profile.name))
        grid.add_row("events", f"{status.events_count:,}")
        if result is not None and result.totals is not None:
            currency = result.profile.currency if result.profile else None
            totals = result.totals
            grid.add_row("inflow", format_money(totals.total_inflow_cents, currency))
            grid.add_row("outflow", format_money(totals.total_outflow_cents, currency))
            grid.add_row("final cash", format_money(totals.final_cash_cents, currency))
        if result is not None and result.validation is not None:
            report = result.validation
            failed = sum(1 for check in report.checks if not check.get("ok", False))
            verdict = (
                Text(f"ok ({len(report.checks)} checks)", style="green")
                if report.ok
                else Text(f"NOT ok ({failed} of {len(report.checks)} checks failed)", style="red")
            )
            grid.add_row("validation", verdict)
        if result is None:
            grid.add_row("totals", Text("unavailable (the scenario could not be read)"))
        grid.add_row("elapsed", f"{elapsed:.1f} s")
        grid.print(self.out)

    def failed(self, status: ScenarioStatus, retry_command: str) -> None:
        """A followed generation failed: the reason and how to run it again."""
        self.err.print(Text(f"Generation of scenario {status.scenario_id} failed", style="red"))
        self.err.print(Text(f"error: {status.error or 'no reason given'}"))
        self.err.print(Text(f"Retry with: {retry_command}"))

    def events(
        self,
        events: Sequence[BusinessEvent],
        profile: CompanyProfile | None,
        next_command: str | None,
    ) -> None:
        """A page of events as a table, and the command that shows the next page."""
        currency = profile.currency if profile else None
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        table.add_column("id", no_wrap=True)
        table.add_column("date", no_wrap=True)
        table.add_column("type", no_wrap=True)
        table.add_column("category", no_wrap=True)
        table.add_column("amount" + (f" ({currency})" if currency else ""), justify="right")
        table.add_column("description")
        for event in events:
            table.add_row(
                event.event_id,
                event_date(event, profile),
                Text(event.event_type),
                Text(event.category),
                Text(
                    format_money(event.amount_cents, currency),
                    style="green" if event.category == "inflow" else "red",
                ),
                Text(event.description),
            )
        if events:
            self.out.print(table)
        else:
            self.out.print("No events.")
        if next_command:
            self.out.print(Text(f"Next page: {next_command}"))

    def error(self, message: str) -> None:
        """A problem, in words."""
        self.err.print(Text(message, style="red"))

    def field_problems(self, message: str, fields: Sequence[FieldProblem]) -> None:
        """A refused request, with every field's reason."""
        self.err.print(Text(message, style="red"))
        for problem in fields:
            self.err.print(Text(f"  {problem.field}: {problem.reason}"))

    def note(self, message: str) -> None:
        """A line of plain information."""
        self.out.print(Text(message))

    @contextmanager
    def progress(self) -> Iterator[ProgressDisplay]:
        """A live progress bar on a terminal; one line per change when piped to a file."""
        if self.out.is_terminal and not self.out.is_dumb_terminal:
            with LiveProgress(self.out) as live:
                yield live
        else:
            yield LineProgress(self.out)


class ProgressDisplay:
    """What `watch_scenario` reports to: see `LiveProgress` and `LineProgress`."""

    def show(self, status: ScenarioStatus) -> None:
        """Display `status`."""
        raise NotImplementedError

    def unreachable(self, error: TransientError, retry_in: float) -> None:
        """Say that the API does not answer and when it is asked again."""
        raise NotImplementedError


class LiveProgress(ProgressDisplay):
    """A rich progress bar: stage message, bar, percentage, time watched."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        self._task = self._progress.add_task("Waiting for the first status...", total=100)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def show(self, status: ScenarioStatus) -> None:
        """Move the bar to the status's progress, with its stage message."""
        if self._task is not None:
            self._progress.update(self._task, completed=status.progress, description=status.message)

    def unreachable(self, error: TransientError, retry_in: float) -> None:
        """Keep the bar where it was; the text says the API is being retried."""
        if self._task is not None:
            self._progress.update(self._task, description=outage_words(error))


class LineProgress(ProgressDisplay):
    """Progress for logs and pipes: a line each time the stage or percentage changes."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._last: tuple[int, str] | None = None

    def show(self, status: ScenarioStatus) -> None:
        """Print the status unless it is what the last line already said."""
        shown = (status.progress, status.message)
        if shown != self._last:
            self._last = shown
            self._console.print(Text(f"{status.progress:>3}%  {status.message}"))

    def unreachable(self, error: TransientError, retry_in: float) -> None:
        """Print why this poll failed and when the next one is."""
        self._last = None
        self._console.print(
            Text(f"{outage_words(error)} ({error.message}; next try in {retry_in:.0f} s)")
        )


def outage_words(error: TransientError) -> str:
    """What a failed poll is called while the watch keeps trying."""
    if isinstance(error, RateLimitedError):
        return "Rate limited, retrying..."
    if isinstance(error, UnreachableError):
        return UNREACHABLE_MESSAGE
    return "API error, retrying..."


class _Fields:
    """Aligned `name  value` lines. Not a rich Table: a table pads every cell to its column's
    width, which leaves trailing blanks in logs and copied text."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, Text]] = []

    def add_row(self, name: str, value: str | Text) -> None:
        self._rows.append((name, value if isinstance(value, Text) else Text(value)))

    def print(self, console: Console) -> None:
        width = max((len(name) for name, _ in self._rows), default=0) + 2
        for name, value in self._rows:
            console.print(Text.assemble((name.ljust(width), "bold"), value), soft_wrap=True)


def _status_style(status: str) -> str:
    return {"completed": "green", "failed": "red"}.get(status, "yellow")
