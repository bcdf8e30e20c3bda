"""A typed client for the app's scenario routes, over httpx.

Every answer the client reads is validated into a pydantic model; every way a call can go wrong
becomes one `ApiError` subclass, so callers choose what to do by type rather than by status code.
The models ignore nothing they do not declare but keep it (`extra="allow"`), so `--json` output
still shows fields added to the API after this client was written.
"""

from __future__ import annotations

import email.utils
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

ModelT = TypeVar("ModelT", bound=BaseModel)

DEFAULT_URL: Final = "http://127.0.0.1:8000"
FINISHED_STATUSES: Final = frozenset({"completed", "failed"})

# Local DynamoDB answers large queries slowly; a generous read timeout keeps an events page of
# 500 from looking like an outage, while a short connect timeout notices a down API quickly.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)


class CamelModel(BaseModel):
    """An API body whose keys are camelCase (the status fields and the envelopes)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True
    )


class SnakeModel(BaseModel):
    """An API body whose keys are the stored models' snake_case (profile, totals, events)."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ScenarioStatus(CamelModel):
    """`GET /api/status/{id}`: where a generation stands."""

    scenario_id: str
    scenario_type: str
    # A plain string, not a Literal: a status added to the API later must not break watching.
    status: str
    progress: int = Field(ge=0, le=100)
    current_stage: str
    message: str
    error: str | None = None
    events_count: int = 0
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """True once the generation can no longer change without a retry."""
        return self.status in FINISHED_STATUSES


class GenerationAccepted(CamelModel):
    """The 202 of `POST /api/generate` and of a retry: the run was recorded and handed over."""

    scenario_id: str
    status: str
    status_url: str
    queued: bool
    fallback: str | None = None
    run: int | None = None


class CompanyProfile(SnakeModel):
    """The parts of a scenario's company profile the client shows."""

    name: str
    currency: str
    fiscal_year: int


class ScenarioTotals(SnakeModel):
    """What a scenario's stored events add up to."""

    events_count: int
    total_inflow_cents: int
    total_outflow_cents: int
    final_cash_cents: int


class ValidationReport(SnakeModel):
    """The verdict of the consistency checks on a stored scenario."""

    ok: bool
    checks: list[dict[str, Any]] = Field(default_factory=list)


class ScenarioResult(ScenarioStatus):
    """`GET /api/scenarios/{id}`: the status fields plus what the generation produced so far."""

    seed: int | None = None
    profile: CompanyProfile | None = None
    trends: list[dict[str, Any]] = Field(default_factory=list)
    totals: ScenarioTotals | None = None
    validation: ValidationReport | None = None


class BusinessEvent(SnakeModel):
    """One money movement of a scenario."""

    event_id: str
    month: int
    day: int
    event_type: str
    category: str
    amount_cents: int
    description: str
    counterparty: str | None = None


class EventsPage(CamelModel):
    """`GET /api/scenarios/{id}/events`: one page, and the cursor of the next (None at the end)."""

    scenario_id: str
    events: list[BusinessEvent]
    next_cursor: str | None = None


class StatusPoll(BaseModel):
    """One status request: the new status, or None when the ETag still matched (304)."""

    model_config = ConfigDict(frozen=True)

    status: ScenarioStatus | None
    etag: str | None


class FieldProblem(BaseModel):
    """One reason a request was refused (the `fields` of a 400)."""

    field: str
    reason: str


class ApiError(Exception):
    """A call that did not give the answer asked for."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class InvalidRequestError(ApiError):
    """400: the API refused the request, naming each field that is wrong."""

    def __init__(self, message: str, fields: list[FieldProblem]) -> None:
        super().__init__(message, status_code=400)
        self.fields = fields


class NotFoundError(ApiError):
    """404: no such scenario."""


class ConflictError(ApiError):
    """409: the scenario's state does not allow the request."""


class RateLimitedError(ApiError):
    """429: too many requests; `retry_after` seconds to wait, when the API said."""

    def __init__(self, message: str, retry_after: int | None) -> None:
        super().__init__(message, status_code=429)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the API failed; `details` keeps the body's other fields (e.g. a `scenarioId`)."""

    def __init__(self, message: str, *, status_code: int, details: dict[str, Any]) -> None:
        super().__init__(message, status_code=status_code)
        self.details = details


class UnexpectedAnswerError(ApiError):
    """Any other answer: an unexpected status, or a body that is not what the route returns."""


class UnreachableError(ApiError):
    """No answer at all: refused connection, DNS failure, timeout, dropped connection."""


def retry_after_seconds(value: str | None, *, now: float | None = None) -> int | None:
    """A `Retry-After` header as whole seconds to wait (it may be seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0, round(when.timestamp() - current))


def _body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object a response carries, or an empty one when it carries none."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_message(body: dict[str, Any], response: httpx.Response) -> str:
    message = body.get("error") or body.get("message") or body.get("Message")
    if isinstance(message, str) and message:
        return message
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def raise_for_problem(response: httpx.Response) -> None:
    """Turn any non-2xx answer into the matching `ApiError`."""
    code = response.status_code
    if code < 400:
        return
    body = _body(response)
    message = _error_message(body, response)
    if code == 400:
        try:
            fields = [FieldProblem.model_validate(item) for item in body.get("fields") or []]
        except ValidationError:
            fields = []
        raise InvalidRequestError(message, fields)
    if code == 404:
        raise NotFoundError(message, status_code=code)
    if code == 409:
        raise ConflictError(message, status_code=code)
    if code == 429:
        raise RateLimitedError(message, retry_after_seconds(response.headers.get("Retry-After")))
    if code >= 500:
        details = {key: value for key, value in body.items() if key != "error"}
        raise ServerError(message, status_code=code, details=details)
    raise UnexpectedAnswerError(message, status_code=code)


class LonghaulApi:
    """The app's scenario routes at `base_url` (the app's root; routes start with `/api`).

    Nothing touches the network until a method is called. Use it as a context manager, or call
    `close()`, to release the connection pool.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "longhaul-cli"},
        )

    def __enter__(self) -> LonghaulApi:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections."""
        self._http.close()

    def generate(self, scenario_type: str, seed: int | None = None) -> GenerationAccepted:
        """Start a generation (`POST /api/generate`)."""
        payload: dict[str, Any] = {"scenarioType": scenario_type}
        if seed is not None:
            payload["seed"] = seed
        response = self._send("POST", "/api/generate", json=payload)
        return self._parsed(response, GenerationAccepted)

    def status(self, scenario_id: str, *, etag: str | None = None) -> StatusPoll:
        """The scenario's status; with the previous `etag`, a 304 comes back as `status=None`."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._send("GET", f"/api/status/{_segment(scenario_id)}", headers=headers)
        if response.status_code == 304:
            return StatusPoll(status=None, etag=response.headers.get("ETag", etag))
        return StatusPoll(
            status=self._parsed(response, ScenarioStatus), etag=response.headers.get("ETag")
        )

    def retry(self, scenario_id: str) -> GenerationAccepted:
        """Start a new run of a failed scenario."""
        response = self._send("POST", f"/api/scenarios/{_segment(scenario_id)}/retry")
        return self._parsed(response, GenerationAccepted)

    def scenario(self, scenario_id: str) -> ScenarioResult:
        """Profile, trends, totals and validation of a scenario."""
        response = self._send("GET", f"/api/scenarios/{_segment(scenario_id)}")
        return self._parsed(response, ScenarioResult)

    def events(
        self, scenario_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> EventsPage:
        """One page of the scenario's events, in their stable order."""
        params: dict[str, str | int] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor
        response = self._send(
            "GET", f"/api/scenarios/{_segment(scenario_id)}/events", params=params
        )
        return self._parsed(response, EventsPage)

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TransportError as exc:
            raise UnreachableError(
                f"cannot reach the API at {self.base_url}: {_describe(exc)}"
            ) from exc
        except httpx.RequestError as exc:
            raise UnexpectedAnswerError(f"request failed: {_describe(exc)}") from exc
        raise_for_problem(response)
        return response

    @staticmethod
    def _parsed(response: httpx.Response, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise UnexpectedAnswerError(
                f"the API's answer ({response.status_code}) is not a {model.__name__}",
                status_code=response.status_code,
            ) from exc


def _segment(scenario_id: str) -> str:
    # Ids come from the command line: quote them so "../generate" stays one path segment.
    return quote(scenario_id, safe="")


def _describe(error: httpx.RequestError) -> str:
    return str(error) or type(error).__name__
