"""The escrow use cases with an in-memory store and job queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from chalicelib.escrow.models import CreateEscrowRequest, Resolution, ResolveRequest
from chalicelib.escrow.service import (
    ChangeAction,
    EscrowOutcome,
    change_escrow,
    create_escrow,
    escrow_view,
)
from chalicelib.escrow.store import EscrowNotFoundError, TransitionRefusedError
from tests.fakes.escrow_store import InMemoryEscrowStore
from tests.unit.escrow.conftest import NOW, FakeJobQueue, create_request

LATER = NOW + timedelta(hours=1)


def created(store: InMemoryEscrowStore, queue: FakeJobQueue, **changes: object) -> str:
    outcome = create_escrow(create_request(**changes), store=store, enqueue=queue.enqueue, now=NOW)
    return outcome.escrow.escrow_id


def change(
    store: InMemoryEscrowStore,
    queue: FakeJobQueue,
    escrow_id: str,
    action: ChangeAction,
    *,
    note: str | None = None,
    resolution: Resolution | None = None,
) -> EscrowOutcome:
    return change_escrow(
        escrow_id,
        action,
        store=store,
        enqueue=queue.enqueue,
        now=LATER,
        note=note,
        resolution=resolution,
    )


def test_create_stores_a_funded_escrow_and_enqueues_its_confirmation_and_audit(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)

    escrow = store.get(escrow_id)
    assert escrow is not None
    assert (escrow.state, escrow.amount, escrow.currency) == ("funded", 125_000, "USD")
    assert queue.types() == ["send_payment_confirmed_email", "audit_log_created"]
    assert set(escrow.jobs) == {"create:send_payment_confirmed_email", "create:audit_log_created"}
    assert set(escrow.jobs.values()) == set(queue.jobs)
    assert escrow_view(escrow)["notEnqueued"] == []


@pytest.mark.parametrize(
    ("action", "state", "types"),
    [
        (
            "release",
            "released",
            [
                "send_release_email",
                "stripe_capture_payment",
                "webhook_escrow_status_changed",
                "audit_log_created",
            ],
        ),
        (
            "refund",
            "refunded",
            [
                "send_refund_email",
                "stripe_refund_payment",
                "webhook_escrow_status_changed",
                "audit_log_created",
            ],
        ),
        (
            "dispute",
            "disputed",
            ["send_dispute_email", "webhook_escrow_status_changed", "audit_log_created"],
        ),
    ],
)
def test_each_transition_moves_the_state_once_and_enqueues_its_side_effects(
    store: InMemoryEscrowStore,
    queue: FakeJobQueue,
    action: ChangeAction,
    state: str,
    types: list[str],
) -> None:
    escrow_id = created(store, queue)

    outcome = change(store, queue, escrow_id, action)

    assert outcome.changed
    assert outcome.escrow.state == state
    assert [t.action for t in outcome.escrow.transitions] == ["create", action]
    assert queue.types() == types
    assert {spec.dedupe_key for spec in queue.calls[-1]} == {f"escrow-{escrow_id}-{action}"}
    # As long as the queue keeps a dedupe key, so a late repeat still finds the jobs it made.
    assert {spec.dedupe_window for spec in queue.calls[-1]} == {7 * 86_400}
    assert len(outcome.escrow.jobs) == 2 + len(types)


def test_the_payment_job_carries_an_idempotency_key_per_escrow_and_operation(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    change(store, queue, escrow_id, "release")

    (capture,) = [s for s in queue.calls[-1] if s.job_type == "stripe_capture_payment"]
    assert capture.payload == {
        "escrowId": escrow_id,
        "paymentId": "pi_123",
        "amount": 125_000,
        "currency": "USD",
        "idempotencyKey": f"escrow-{escrow_id}-capture",
    }


def test_no_webhook_without_a_partner_url_and_no_payment_job_without_a_payment(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue, partnerWebhookUrl=None, paymentId=None)

    change(store, queue, escrow_id, "release")

    assert queue.types() == ["send_release_email", "audit_log_created"]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("release", "refund"),
        ("refund", "release"),
        ("release", "dispute"),
        ("refund", "dispute"),
        ("dispute", "release"),
        ("dispute", "refund"),
    ],
)
def test_a_transition_from_the_wrong_state_is_refused_and_changes_nothing(
    store: InMemoryEscrowStore, queue: FakeJobQueue, first: ChangeAction, then: ChangeAction
) -> None:
    escrow_id = created(store, queue)
    before = change(store, queue, escrow_id, first).escrow
    calls = len(queue.calls)

    with pytest.raises(TransitionRefusedError) as refused:
        change(store, queue, escrow_id, then)

    assert refused.value.escrow.state == before.state
    assert store.get(escrow_id) == before
    assert len(queue.calls) == calls  # nothing enqueued


def test_resolve_needs_a_disputed_escrow(store: InMemoryEscrowStore, queue: FakeJobQueue) -> None:
    escrow_id = created(store, queue)

    with pytest.raises(TransitionRefusedError) as refused:
        change(store, queue, escrow_id, "resolve", resolution="release", note="no dispute")

    assert refused.value.escrow.state == "funded"


def test_an_unknown_escrow_is_not_found(store: InMemoryEscrowStore, queue: FakeJobQueue) -> None:
    with pytest.raises(EscrowNotFoundError):
        change(store, queue, "0" * 32, "release")
    assert queue.calls == []


@pytest.mark.parametrize(
    ("resolution", "state", "money"),
    [
        ("release", "released", "stripe_capture_payment"),
        ("refund", "refunded", "stripe_refund_payment"),
    ],
)
def test_resolving_a_dispute_notifies_and_runs_the_release_or_refund_side_effects(
    store: InMemoryEscrowStore,
    queue: FakeJobQueue,
    resolution: Resolution,
    state: str,
    money: str,
) -> None:
    escrow_id = created(store, queue)
    change(store, queue, escrow_id, "dispute", note="item never arrived")

    outcome = change(
        store, queue, escrow_id, "resolve", resolution=resolution, note="carrier confirmed"
    )

    assert outcome.escrow.state == state
    assert queue.types() == [
        "notify_dispute_resolved",
        f"send_{resolution}_email",
        money,
        "webhook_escrow_status_changed",
        "audit_log_created",
    ]
    webhook = next(s for s in queue.calls[-1] if s.job_type == "webhook_escrow_status_changed")
    assert webhook.payload["event"]["previousState"] == "disputed"
    assert webhook.payload["event"]["state"] == state
    assert webhook.payload["event"]["note"] == "carrier confirmed"
    assert escrow_view(outcome.escrow)["notEnqueued"] == []


def test_an_enqueue_failure_keeps_the_transition_and_shows_what_is_missing(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    queue.down = True

    outcome = change(store, queue, escrow_id, "release")

    assert outcome.changed
    assert store.get(escrow_id).state == "released"  # type: ignore[union-attr]
    view = escrow_view(outcome.escrow)
    assert view["notEnqueued"] == [
        "release:send_release_email",
        "release:stripe_capture_payment",
        "release:webhook_escrow_status_changed",
        "release:audit_log_created",
    ]
    assert {e["state"] for e in view["sideEffects"] if e["jobId"] is None} == {"not_enqueued"}


def test_repeating_a_transition_answers_the_escrow_and_enqueues_what_is_missing(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    queue.down = True
    change(store, queue, escrow_id, "release")
    queue.down = False

    again = change(store, queue, escrow_id, "release")

    assert not again.changed
    assert again.escrow.state == "released"
    assert len(again.escrow.transitions) == 2  # the repeat is not a second release
    assert queue.types() == [
        "send_release_email",
        "stripe_capture_payment",
        "webhook_escrow_status_changed",
        "audit_log_created",
    ]
    assert escrow_view(again.escrow)["notEnqueued"] == []


def test_a_repeat_with_nothing_missing_enqueues_nothing(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    first = change(store, queue, escrow_id, "release")
    calls = len(queue.calls)

    again = change(store, queue, escrow_id, "release")

    assert again.escrow == first.escrow
    assert len(queue.calls) == calls


def test_a_later_transition_also_enqueues_what_the_creation_still_owes(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    queue.down = True
    escrow_id = created(store, queue)
    queue.down = False

    outcome = change(store, queue, escrow_id, "dispute")

    assert queue.types()[:2] == ["send_payment_confirmed_email", "audit_log_created"]
    assert escrow_view(outcome.escrow)["notEnqueued"] == []


def test_a_resolution_cannot_be_repeated_the_other_way(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    change(store, queue, escrow_id, "dispute")
    change(store, queue, escrow_id, "resolve", resolution="refund", note="refund it")

    with pytest.raises(TransitionRefusedError):
        change(store, queue, escrow_id, "resolve", resolution="release", note="changed my mind")
    repeat = change(store, queue, escrow_id, "resolve", resolution="refund", note="refund it")
    assert not repeat.changed


def test_a_release_is_not_a_repeat_of_a_resolution_that_released(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    change(store, queue, escrow_id, "dispute")
    change(store, queue, escrow_id, "resolve", resolution="release", note="seller delivered")

    with pytest.raises(TransitionRefusedError) as refused:
        change(store, queue, escrow_id, "release")
    assert refused.value.escrow.state == "released"


def test_jobs_enqueued_but_not_recorded_do_not_fail_the_transition_and_a_repeat_records_them(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    store.fail_record_jobs = RuntimeError("DynamoDB throttled")

    outcome = change(store, queue, escrow_id, "release")

    assert outcome.escrow.state == "released"
    assert len(escrow_view(outcome.escrow)["notEnqueued"]) == 4
    enqueued = {
        job_id
        for job_id, spec in queue.jobs.items()
        if spec.dedupe_key == f"escrow-{escrow_id}-release"
    }
    assert len(enqueued) == 4
    store.fail_record_jobs = None

    again = change(store, queue, escrow_id, "release")

    assert escrow_view(again.escrow)["notEnqueued"] == []
    # The dedupe keys answered the jobs already enqueued: none was enqueued twice.
    release_ids = {v for k, v in again.escrow.jobs.items() if k.startswith("release:")}
    assert release_ids == enqueued
    assert len(queue.jobs) == 2 + 4


def test_the_view_reports_each_job_state_from_the_queue(
    store: InMemoryEscrowStore, queue: FakeJobQueue
) -> None:
    escrow_id = created(store, queue)
    escrow = store.get(escrow_id)
    assert escrow is not None
    confirmation = escrow.jobs["create:send_payment_confirmed_email"]

    view = escrow_view(escrow, {confirmation: "completed"})

    states = {e["effect"]: (e["jobId"], e["state"]) for e in view["sideEffects"]}
    assert states["create:send_payment_confirmed_email"] == (confirmation, "completed")
    assert states["create:audit_log_created"][1] == "unknown"
    assert view["escrowId"] == escrow_id
    assert view["buyerEmail"] == "buyer@example.com"
    assert "jobs" not in view


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 0),
        ("amount", -5),
        ("amount", "12.50"),
        ("amount", "129900"),
        ("amount", True),
        ("currency", "US"),
        ("currency", "US1"),
        ("buyerEmail", "not-an-email"),
        ("sellerEmail", ""),
        ("partnerWebhookUrl", "ftp://partner.example/hook"),
        ("partnerWebhookUrl", "not a url"),
        ("paymentId", "pi 1"),
    ],
)
def test_a_create_request_with_a_bad_field_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        create_request(**{field: value})
    assert [e["loc"][0] for e in raised.value.errors()] == [field]


def test_a_create_request_needs_its_parties_and_terms() -> None:
    with pytest.raises(ValidationError) as raised:
        CreateEscrowRequest.model_validate({})
    assert {e["loc"][0] for e in raised.value.errors()} == {
        "amount",
        "currency",
        "buyerEmail",
        "sellerEmail",
    }


def test_a_resolution_is_release_or_refund_with_a_note() -> None:
    with pytest.raises(ValidationError) as raised:
        ResolveRequest.model_validate({"resolution": "split", "note": ""})
    assert {e["loc"][0] for e in raised.value.errors()} == {"resolution", "note"}
