"""Publish headers, cron expressions and the default backoff."""

from __future__ import annotations

import math

import pytest
from multidict import CIMultiDict

from devstack.qstash.cron import CronExpression
from devstack.qstash.delivery import default_backoff_seconds
from devstack.qstash.errors import ApiError
from devstack.qstash.options import DeliveryOptions, parse_delivery_options


def _parse(**headers: str) -> DeliveryOptions:
    return parse_delivery_options(CIMultiDict({k.replace("_", "-"): v for k, v in headers.items()}))


def test_defaults_without_headers() -> None:
    options = _parse()

    assert (options.method, options.retries, options.delay, options.headers) == ("POST", 3, 0, ())
    assert options.callback is None
    assert options.retry_delay is None


def test_headers_set_every_option() -> None:
    options = _parse(
        Upstash_Method="put",
        Upstash_Retries="5",
        Upstash_Delay="1m",
        Upstash_Not_Before="2000000000",
        Upstash_Timeout="30s",
        Upstash_Retry_Delay="1000 * retried",
        Upstash_Label="a, b",
        Upstash_Content_Based_Deduplication="True",
        Upstash_Forward_X_Trace="t-1",
        Content_Type="text/plain",
    )

    assert options.method == "PUT"
    assert options.retries == 5
    assert options.delay == 60
    assert options.not_before == 2_000_000_000
    assert options.timeout == 30
    assert options.retry_delay is not None
    assert options.retry_delay.milliseconds(2) == 2000
    assert options.labels == ["a", "b"]
    assert options.content_based_deduplication
    assert options.headers == (("X-Trace", "t-1"),)
    assert options.content_type == "text/plain"


def test_callback_headers_in_sdk_and_spec_forms() -> None:
    options = parse_delivery_options(
        CIMultiDict(
            {
                "Upstash-Callback": "http://cb.test/ok",
                "Upstash-Callback-X-Sdk": "1",
                "Upstash-Callback-Forward-X-Spec": "2",
                "Upstash-Callback-Retries": "0",
                "Upstash-Callback-Method": "PUT",
                "Upstash-Failure-Callback": "http://cb.test/failed",
                "Upstash-Failure-Callback-Timeout": "5s",
            }
        )
    )

    assert options.callback is not None
    assert options.failure_callback is not None
    assert options.callback.headers == (("X-Sdk", "1"), ("X-Spec", "2"))
    assert (options.callback.retries, options.callback.method) == (0, "PUT")
    assert options.failure_callback.timeout == 5
    assert options.failure_callback.retries is None


def test_overrides_keep_what_they_do_not_mention() -> None:
    base = _parse(Upstash_Retries="7", Upstash_Forward_A="1", Upstash_Delay="1h")

    options = parse_delivery_options(CIMultiDict({"Upstash-Forward-B": "2"}), base.for_redelivery())

    assert options.retries == 7
    assert options.delay == 0
    assert options.headers == (("A", "1"), ("B", "2"))


@pytest.mark.parametrize(
    "headers",
    [
        {"Upstash-Retries": "1001"},
        {"Upstash-Timeout": "0s"},
        {"Upstash-Not-Before": "-1"},
        {"Upstash-Failure-Callback": "not a url"},
        {"Upstash-Callback": "http://ok.test/", "Upstash-Callback-Retries": "x"},
        {"Upstash-Flow-Control-Key": "k", "Upstash-Flow-Control-Value": "rate=fast"},
        {"Upstash-Forward-X-Evil": "a\r\nInjected: 1"},
        {"Upstash-Forward-Bad Name": "v"},
    ],
)
def test_bad_headers_are_400(headers: dict[str, str]) -> None:
    with pytest.raises(ApiError) as caught:
        parse_delivery_options(CIMultiDict(headers))
    assert caught.value.status == 400


def test_flow_control_is_parsed() -> None:
    options = _parse(
        Upstash_Flow_Control_Key="tenant-1",
        Upstash_Flow_Control_Value="parallelism=2, rate=10, period=1m",
    )

    assert options.flow_control is not None
    assert (options.flow_control.parallelism, options.flow_control.period) == (2, 60)


def test_default_backoff_is_min_of_a_day_and_e_to_the_2_5n() -> None:
    assert default_backoff_seconds(1) == pytest.approx(math.exp(2.5))  # ~12 s
    assert default_backoff_seconds(2) == pytest.approx(math.exp(5))  # ~2 m 28 s
    assert default_backoff_seconds(3) == pytest.approx(math.exp(7.5))  # ~30 m
    assert default_backoff_seconds(5) == 86400
    assert default_backoff_seconds(10**6) == 86400  # no overflow


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("*/5 * * * *", 0, 300),
        ("0 * * * *", 10, 3600),
        ("CRON_TZ=America/New_York 0 0 * * *", 0, 5 * 3600),
    ],
)
def test_cron_next_firing(text: str, after: float, expected: float) -> None:
    assert CronExpression(text).next_after(after) == expected


@pytest.mark.parametrize(
    "text", ["", "* * * *", "* * * * * *", "61 * * * *", "CRON_TZ=Mars/Base * * * * *", "hourly"]
)
def test_invalid_cron_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"cron|time zone"):
        CronExpression(text)
