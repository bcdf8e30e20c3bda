"""The command line: `longhaul generate|status|events|retry ...` (or `python -m longhaul_cli`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from longhaul_cli import commands
from longhaul_cli.api import DEFAULT_URL, ApiError, LonghaulApi
from longhaul_cli.commands import CommandLine
from longhaul_cli.exit_codes import ExitCode, exit_codes_epilog
from longhaul_cli.render import Terminal
from longhaul_cli.watch import WatchSettings

URL_VARIABLE = "LONGHAUL_URL"
DEFAULT_TIMEOUT_SECONDS = 1800.0


def _base_url(value: str) -> str:
    # Caught here, a typo is a usage error; caught by httpx, it would look like an outage.
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return seconds


def _default_url() -> str:
    # An empty variable counts as unset, as it does for the app's own settings.
    return os.environ.get(URL_VARIABLE) or DEFAULT_URL


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, with the exit codes in the epilog of `--help`."""
    epilog = exit_codes_epilog()
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--url",
        type=_base_url,
        default=None,
        help=f"the app's base URL (default: ${URL_VARIABLE}, else {DEFAULT_URL})",
    )
    following = argparse.ArgumentParser(add_help=False)
    following.add_argument(
        "--follow",
        action="store_true",
        help="watch the generation with a progress bar until it completes or fails",
    )
    following.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="with --follow: stop watching after this long (default: %(default).0f)",
    )
    machine = argparse.ArgumentParser(add_help=False)
    machine.add_argument(
        "--json", action="store_true", help="print the API's answer as JSON (not with --follow)"
    )

    parser = argparse.ArgumentParser(
        prog="longhaul",
        description="Start Longhaul scenario generations, watch them, and read their results.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, parents: list[argparse.ArgumentParser], summary: str, description: str
    ) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            parents=parents,
            help=summary,
            description=description,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    generate = command(
        "generate",
        [connection, following, machine],
        "start generating a scenario",
        "Start generating a scenario of TYPE (bakery, hotel, tech_startup).",
    )
    generate.add_argument("scenario_type", metavar="TYPE", help="bakery, hotel or tech_startup")
    generate.add_argument("--seed", type=int, help="make the scenario repeatable")

    status = command(
        "status",
        [connection, following, machine],
        "show (or watch) a scenario's progress",
        "Show a scenario's status, or watch it with --follow.",
    )
    status.add_argument("scenario_id", metavar="ID")

    events = command(
        "events",
        [connection, machine],
        "list a page of a scenario's events",
        "List a page of a scenario's events, in their stable order.",
    )
    events.add_argument("scenario_id", metavar="ID")
    events.add_argument("--limit", type=int, help="events per page, 1-500 (API default: 100)")
    events.add_argument("--cursor", help="where the page starts: the previous page's cursor")

    retry = command(
        "retry",
        [connection, following, machine],
        "run a failed scenario again",
        "Start a new run of a failed scenario.",
    )
    retry.add_argument("scenario_id", metavar="ID")
    return parser


def run(args: argparse.Namespace, terminal: Terminal) -> ExitCode:
    """Run the parsed command; every API problem becomes its message and exit code."""
    line = CommandLine(f"--url {args.url}" if args.url else "")
    url = args.url or _default_url()
    follow = bool(getattr(args, "follow", False))
    watch = WatchSettings(timeout=getattr(args, "timeout", DEFAULT_TIMEOUT_SECONDS))
    try:
        with LonghaulApi(url) as api:
            if args.command == "generate":
                return commands.generate(
                    api,
                    terminal,
                    scenario_type=args.scenario_type,
                    seed=args.seed,
                    follow=follow,
                    as_json=args.json,
                    watch=watch,
                    line=line,
                )
            if args.command == "status":
                return commands.status(
                    api,
                    terminal,
                    scenario_id=args.scenario_id,
                    follow=follow,
                    as_json=args.json,
                    watch=watch,
                    line=line,
                )
            if args.command == "retry":
                return commands.retry(
                    api,
                    terminal,
                    scenario_id=args.scenario_id,
                    follow=follow,
                    as_json=args.json,
                    watch=watch,
                    line=line,
                )
            return commands.events(
                api,
                terminal,
                scenario_id=args.scenario_id,
                limit=args.limit,
                cursor=args.cursor,
                as_json=args.json,
                line=line,
            )
    except ApiError as error:
        return commands.exit_code_for(error, terminal, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `longhaul` and `python -m longhaul_cli`; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "follow", False) and args.json:
        parser.error("--json cannot be combined with --follow")
    try:
        return int(run(args, terminal=Terminal()))
    except KeyboardInterrupt:
        # Ctrl-C outside a watch (a one-shot request): stop quietly, as shells expect.
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
