"""`python -m devstack up` starts the whole local stack; `python -m devstack SERVICE` one part."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from devstack.stack import ServiceInfo, StackOptions


def _wait_for_stop_signal() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stop.wait()


def _print_services(services: Sequence[ServiceInfo]) -> None:
    for service in services:
        detail = f"  ({service.detail})" if service.detail else ""
        print(f"{service.name:<11} {service.url}{detail}", flush=True)


def _add_qstash_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every delay")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of attempts failed")
    parser.add_argument(
        "--duplicate-rate", type=float, default=0.0, help="share of messages delivered twice"
    )
    parser.add_argument(
        "--duplicate-copies", type=int, default=1, help="extra copies of a duplicated delivery"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each delivery")
    parser.add_argument("--seed", type=int, default=None, help="seed of the chaos knobs' RNG")


def _options(args: argparse.Namespace, **ports: int) -> StackOptions:
    knobs = ("time_scale", "fail_rate", "duplicate_rate", "duplicate_copies", "latency", "seed")
    values = {k: getattr(args, k) for k in knobs if hasattr(args, k)}
    return StackOptions(host=args.host, **values, **ports)


def _run_up(args: argparse.Namespace) -> None:
    from devstack.stack import LocalStack

    stack = LocalStack(_options(args, app_port=args.port)).start()
    try:
        _print_services(stack.services)
        print("Ctrl-C stops everything.", flush=True)
        _wait_for_stop_signal()
    finally:
        stack.stop()


def _run_one(name: str, port_option: str) -> Callable[[argparse.Namespace], None]:
    """A command that starts only the service `name`, on the port given by `--port`."""

    def run(args: argparse.Namespace) -> None:
        from devstack.stack import LocalStack

        ports = {port_option: args.port}
        if name == "smtp":
            ports["mail_api_port"] = args.http_port
        stack = LocalStack(_options(args, **ports)).start(only=[name])
        try:
            _print_services(stack.services)
            _wait_for_stop_signal()
        finally:
            stack.stop()

    return run


def _run_mail(args: argparse.Namespace) -> None:
    from devstack.smtp import MailStore

    store = MailStore(StackOptions().mail_dir)
    if args.clear:
        print(f"deleted {store.clear()} messages")
        return
    for mail in store.list():
        print(
            f"{mail.id}  {mail.received_at:%H:%M:%S}  {mail.mail_from} -> "
            f"{', '.join(mail.rcpt_tos)}  {mail.subject}"
        )


def build_parser() -> argparse.ArgumentParser:
    """The command line of the local stack."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start every service and the app")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000, help="port of the app")
    _add_qstash_options(up)
    up.set_defaults(run=_run_up)

    singles = [
        ("qstash", "qstash_port", 8080),
        ("redis-rest", "redis_rest_port", 8079),
        ("dynamodb", "dynamodb_port", 8078),
        ("smtp", "smtp_port", 1025),
    ]
    for name, port_option, default_port in singles:
        sub = commands.add_parser(name, help=f"start only the {name} service")
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=default_port)
        if name == "qstash":
            _add_qstash_options(sub)
        if name == "smtp":
            sub.add_argument("--http-port", type=int, default=8025, help="port of the mail list")
        sub.set_defaults(run=_run_one(name, port_option))

    mail = commands.add_parser("mail", help="list the messages the SMTP sink received")
    mail.add_argument("--clear", action="store_true", help="delete them instead")
    mail.set_defaults(run=_run_mail)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line."""
    # moto's server logs every request through werkzeug; the stack prints its own lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except Exception as exc:  # a start-up failure is reported in one line, not a traceback
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
