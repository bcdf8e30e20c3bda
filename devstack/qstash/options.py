"""Turning a publish request's `Upstash-*` headers into the settings of the messages it creates."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from devstack.qstash.durations import parse_duration
from devstack.qstash.errors import bad_request
from devstack.qstash.retry_delay import RetryDelayExpression

HeaderMap = CIMultiDict[str] | CIMultiDictProxy[str]
Headers = tuple[tuple[str, str], ...]

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
DEFAULT_RETRIES = 3
# A guard against typos such as `Upstash-Retries: 3000000`; real plans allow far fewer.
MAX_RETRIES = 1000
FORWARD_PREFIX = "Upstash-Forward-"
CALLBACK_SETTINGS = ("Method", "Timeout", "Retries", "Retry-Delay")

_Default = TypeVar("_Default", int, None)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
UNSAFE_HEADER_VALUE = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class CallbackOptions:
    """Where and how a (failure) callback about a message is delivered."""

    url: str
    method: str = "POST"
    retries: int | None = None  # None: as many as the source message
    timeout: float | None = None
    retry_delay: RetryDelayExpression | None = None
    headers: Headers = ()


@dataclass(frozen=True)
class FlowControl:
    """The flow-control key and limits a message was published with (echoed, not enforced)."""

    key: str
    parallelism: int | None = None
    rate: int | None = None
    period: int | None = None


@dataclass(frozen=True)
class DeliveryOptions:
    """Everything a publisher can set about how a message is delivered."""

    method: str = "POST"
    content_type: str | None = None
    headers: Headers = ()
    retries: int = DEFAULT_RETRIES
    retry_delay: RetryDelayExpression | None = None
    timeout: float | None = None
    callback: CallbackOptions | None = None
    failure_callback: CallbackOptions | None = None
    delay: float = 0.0
    not_before: int | None = None
    deduplication_id: str | None = None
    content_based_deduplication: bool = False
    label: str | None = None
    flow_control: FlowControl | None = None

    @property
    def labels(self) -> list[str]:
        """The comma-separated `Upstash-Label` split into its labels."""
        if self.label is None:
            return []
        return [part.strip() for part in self.label.split(",") if part.strip()]

    def for_redelivery(self) -> DeliveryOptions:
        """These options without the one-off parts (delay, not-before, deduplication)."""
        return dataclasses.replace(
            self,
            delay=0.0,
            not_before=None,
            deduplication_id=None,
            content_based_deduplication=False,
        )


def parse_delivery_options(
    headers: HeaderMap, base: DeliveryOptions | None = None
) -> DeliveryOptions:
    """Read the publish headers; each header present overrides the same setting of `base`.

    Raises a 400 ApiError naming the first header that cannot be understood.
    """
    options = base or DeliveryOptions()
    forwarded = dict(options.headers)
    forwarded.update(_strip_prefix(headers, FORWARD_PREFIX))
    flow_control = options.flow_control
    if "Upstash-Flow-Control-Key" in headers:
        flow_control = _flow_control(
            headers["Upstash-Flow-Control-Key"], headers.get("Upstash-Flow-Control-Value", "")
        )
    return DeliveryOptions(
        method=_method(headers.get("Upstash-Method"), options.method),
        content_type=headers.get("Content-Type", options.content_type),
        headers=tuple(forwarded.items()),
        retries=_retries(headers.get("Upstash-Retries"), "Upstash-Retries", options.retries),
        retry_delay=_retry_delay(headers.get("Upstash-Retry-Delay"), options.retry_delay),
        timeout=_timeout(headers.get("Upstash-Timeout"), "Upstash-Timeout", options.timeout),
        callback=_callback(headers, "Upstash-Callback", options.callback),
        failure_callback=_callback(headers, "Upstash-Failure-Callback", options.failure_callback),
        delay=_delay(headers.get("Upstash-Delay"), options.delay),
        not_before=_not_before(headers.get("Upstash-Not-Before"), options.not_before),
        deduplication_id=headers.get("Upstash-Deduplication-Id", options.deduplication_id),
        content_based_deduplication=_flag(
            headers.get("Upstash-Content-Based-Deduplication"),
            options.content_based_deduplication,
        ),
        label=headers.get("Upstash-Label", options.label),
        flow_control=flow_control,
    )


def require_http_url(value: str, what: str) -> str:
    """`value` if it is an absolute http(s) URL with a host, else a 400."""
    try:
        url = URL(value)
    except ValueError as exc:
        raise bad_request(f"invalid {what}: {value!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise bad_request(f"invalid {what}: {value!r} (must start with http:// or https://)")
    return value


def _strip_prefix(headers: HeaderMap, prefix: str) -> Iterator[tuple[str, str]]:
    """(name without prefix, value) for every header starting with `prefix`, any case.

    Batch requests carry headers as JSON, so a name or value that could not be sent on as an
    HTTP header (a space in the name, a line break in the value) is refused here.
    """
    size = len(prefix)
    for name, value in headers.items():
        if len(name) > size and name[:size].lower() == prefix.lower():
            if not HEADER_NAME.fullmatch(name) or UNSAFE_HEADER_VALUE.search(value):
                raise bad_request(f"invalid header {name!r}")
            yield name[size:], value


def _method(value: str | None, default: str) -> str:
    if value is None:
        return default
    method = value.strip().upper()
    if method not in METHODS:
        raise bad_request(f"invalid Upstash-Method: {value!r}")
    return method


def _retries(value: str | None, header: str, default: _Default) -> int | _Default:
    if value is None:
        return default
    try:
        retries = int(value.strip())
    except ValueError as exc:
        raise bad_request(f"invalid {header}: {value!r}") from exc
    if not 0 <= retries <= MAX_RETRIES:
        raise bad_request(f"invalid {header}: {value!r} (0 to {MAX_RETRIES})")
    return retries


def _retry_delay(
    value: str | None, default: RetryDelayExpression | None
) -> RetryDelayExpression | None:
    if value is None:
        return default
    try:
        return RetryDelayExpression(value)
    except ValueError as exc:
        raise bad_request(f"invalid retry delay expression: {exc}") from exc


def _timeout(value: str | None, header: str, default: float | None) -> float | None:
    if value is None:
        return default
    try:
        timeout = parse_duration(value)
    except ValueError as exc:
        raise bad_request(f"invalid {header}: {value!r}") from exc
    if timeout <= 0:
        raise bad_request(f"invalid {header}: {value!r} (must be positive)")
    return timeout


def _delay(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise bad_request(f"invalid Upstash-Delay: {value!r}") from exc


def _not_before(value: str | None, default: int | None) -> int | None:
    if value is None:
        return default
    try:
        moment = int(value.strip())
    except ValueError as exc:
        raise bad_request(f"invalid Upstash-Not-Before: {value!r} (unix seconds)") from exc
    if moment < 0:
        raise bad_request(f"invalid Upstash-Not-Before: {value!r} (unix seconds)")
    return moment


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    # The SDK sends Python's `True`/`False`; the spec says `true`/`false`.
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise bad_request(f"invalid Upstash-Content-Based-Deduplication: {value!r}")
    return lowered == "true"


def _callback(
    headers: HeaderMap, header: str, default: CallbackOptions | None
) -> CallbackOptions | None:
    """The callback set by `header` and its `header-*` companions, if `header` is present.

    Companions are the settings (`-Method`, `-Timeout`, `-Retries`, `-Retry-Delay`), headers to
    forward as `-Forward-X` (the spec) or plainly `-X` (what the SDK sends).
    """
    url = headers.get(header)
    if url is None:
        return default
    forwarded: dict[str, str] = {}
    for name, value in _strip_prefix(headers, f"{header}-"):
        if name.lower().startswith("forward-"):
            forwarded[name[len("forward-") :]] = value
        elif not any(name.lower() == setting.lower() for setting in CALLBACK_SETTINGS):
            forwarded[name] = value
    return CallbackOptions(
        url=require_http_url(url.strip(), header),
        method=_method(headers.get(f"{header}-Method"), "POST"),
        retries=_retries(headers.get(f"{header}-Retries"), f"{header}-Retries", None),
        timeout=_timeout(headers.get(f"{header}-Timeout"), f"{header}-Timeout", None),
        retry_delay=_retry_delay(headers.get(f"{header}-Retry-Delay"), None),
        headers=tuple(forwarded.items()),
    )


def _flow_control(key: str, value: str) -> FlowControl:
    limits: dict[str, int] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        name, _, amount = part.partition("=")
        name = name.strip().lower()
        try:
            if name == "period":
                limits[name] = int(parse_duration(amount))
            elif name in ("parallelism", "rate"):
                limits[name] = int(amount.strip())
            else:
                raise ValueError(name)
        except ValueError as exc:
            raise bad_request(f"invalid Upstash-Flow-Control-Value: {value!r}") from exc
    return FlowControl(
        key=key,
        parallelism=limits.get("parallelism"),
        rate=limits.get("rate"),
        period=limits.get("period"),
    )


NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,200}")


def require_name(value: str, what: str) -> str:
    """`value` if it is a valid queue, URL group or schedule name, else a 400."""
    if not NAME_PATTERN.fullmatch(value):
        raise bad_request(
            f"invalid {what}: {value!r} (letters, digits, hyphens, periods and underscores only)"
        )
    return value
