"""Structured JSON logs and CloudWatch metrics (Powertools Logger and EMF metrics)."""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger

METRICS_NAMESPACE = "Longhaul"

# One shared instance: keys appended per request (correlation id, message id) then appear on
# every line any module logs while that request runs.
logger = Logger(service="longhaul")


# An id a caller supplies goes into every log line, so only a short, plain token is kept.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def safe_log_id(value: str | None) -> str | None:
    """`value` if it is a short plain token fit for a log line, else None."""
    return value if value is not None and _SAFE_ID.match(value) else None


def count_metric(name: str, **dimensions: str) -> None:
    """Emit one count of `name` now, as an EMF line CloudWatch turns into a metric."""
    # Imported on use: metrics are emitted on rare paths and should not slow cold starts.
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
    ) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
    logger.info("metric", extra={"metric": name, **dimensions})
