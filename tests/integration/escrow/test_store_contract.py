"""One contract, two stores: the in-memory fake the unit tests use must behave like DynamoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.escrow.models import Escrow, Transition
from chalicelib.escrow.runtime import escrow_store
from chalicelib.escrow.store import (
    AuditEntry,
    EscrowExistsError,
    EscrowNotFoundError,
    EscrowStore,
    TransitionRefusedError,
)
from chalicelib.settings import get_settings
from tests.fakes.escrow_store import InMemoryEscrowStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


@pytest.fixture(params=["in-memory", "dynamodb"])
def contract_store(request: pytest.FixtureRequest) -> Iterator[EscrowStore]:
    if request.param == "in-memory":
        yield InMemoryEscrowStore()
    else:
        request.getfixturevalue("local_stack")
        get_settings.cache_clear()
        yield escrow_store(get_settings())


def new_escrow(**changes: object) -> Escrow:
    values: dict[str, object] = {
        "escrow_id": uuid.uuid4().hex,
        "amount": 2_500,
        "currency": "EUR",
        "buyer_email": "buyer@example.com",
        "seller_email": "seller@example.com",
        "partner_webhook_url": "https://partner.example/hook",
        "payment_id": "pi_42",
        "state": "funded",
        "created_at": NOW,
        "updated_at": NOW,
        "transitions": (Transition(action="create", state="funded", at=NOW),),
        **changes,
    }
    return Escrow.model_validate(values)


@pytest.fixture
def funded(contract_store: EscrowStore) -> Escrow:
    escrow = new_escrow()
    contract_store.create(escrow)
    return escrow


def test_an_escrow_reads_back_as_written(contract_store: EscrowStore, funded: Escrow) -> None:
    assert contract_store.get(funded.escrow_id) == funded


def test_optional_fields_read_back_as_unset(contract_store: EscrowStore) -> None:
    escrow = new_escrow(partner_webhook_url=None, payment_id=None)
    contract_store.create(escrow)
    assert contract_store.get(escrow.escrow_id) == escrow


def test_an_id_is_created_once(contract_store: EscrowStore, funded: Escrow) -> None:
    with pytest.raises(EscrowExistsError):
        contract_store.create(new_escrow(escrow_id=funded.escrow_id, amount=1))
    assert contract_store.get(funded.escrow_id) == funded


def test_an_unknown_escrow_reads_as_none_and_cannot_change(contract_store: EscrowStore) -> None:
    unknown = uuid.uuid4().hex
    assert contract_store.get(unknown) is None
    with pytest.raises(EscrowNotFoundError):
        contract_store.transition(
            unknown, start="funded", change=Transition(action="release", state="released", at=NOW)
        )
    with pytest.raises(EscrowNotFoundError):
        contract_store.record_jobs(unknown, {"release:audit_log_created": "1" * 32})
    assert contract_store.get(unknown) is None  # a failed update creates nothing


def test_a_transition_moves_the_state_and_appends_to_the_history(
    contract_store: EscrowStore, funded: Escrow
) -> None:
    change = Transition(action="dispute", state="disputed", at=LATER, note="never arrived")

    changed = contract_store.transition(funded.escrow_id, start="funded", change=change)

    assert changed.state == "disputed"
    assert changed.updated_at == LATER
    assert changed.transitions == (*funded.transitions, change)
    assert contract_store.get(funded.escrow_id) == changed


def test_a_transition_from_another_state_is_refused_with_the_escrow_as_it_is(
    contract_store: EscrowStore, funded: Escrow
) -> None:
    released = contract_store.transition(
        funded.escrow_id,
        start="funded",
        change=Transition(action="release", state="released", at=LATER),
    )

    with pytest.raises(TransitionRefusedError) as refused:
        contract_store.transition(
            funded.escrow_id,
            start="funded",
            change=Transition(action="refund", state="refunded", at=LATER),
        )

    assert refused.value.escrow == released
    assert contract_store.get(funded.escrow_id) == released


def test_job_ids_are_added_and_the_first_id_of_a_key_stays(
    contract_store: EscrowStore, funded: Escrow
) -> None:
    first = contract_store.record_jobs(
        funded.escrow_id, {"create:audit_log_created": "a" * 32, "create:x": "b" * 32}
    )
    again = contract_store.record_jobs(
        funded.escrow_id, {"create:audit_log_created": "c" * 32, "release:y": "d" * 32}
    )

    assert first.jobs == {"create:audit_log_created": "a" * 32, "create:x": "b" * 32}
    assert again.jobs == {
        "create:audit_log_created": "a" * 32,
        "create:x": "b" * 32,
        "release:y": "d" * 32,
    }
    assert contract_store.get(funded.escrow_id) == again
    assert contract_store.record_jobs(funded.escrow_id, {}) == again


def test_recording_jobs_does_not_change_the_state_or_history(
    contract_store: EscrowStore, funded: Escrow
) -> None:
    changed = contract_store.record_jobs(funded.escrow_id, {"create:x": "b" * 32})
    assert changed.model_copy(update={"jobs": {}}) == funded


def entry(escrow_id: str, sequence: int, job_id: str, note: str | None = None) -> AuditEntry:
    return AuditEntry(
        escrow_id=escrow_id,
        sequence=sequence,
        action="create" if sequence == 0 else "release",
        state="funded" if sequence == 0 else "released",
        at=NOW,
        amount=2_500,
        currency="EUR",
        note=note,
        job_id=job_id,
    )


def test_an_audit_entry_written_again_overwrites_instead_of_adding(
    contract_store: EscrowStore, funded: Escrow
) -> None:
    contract_store.put_audit(entry(funded.escrow_id, 1, "1" * 32))
    contract_store.put_audit(entry(funded.escrow_id, 0, "0" * 32))
    contract_store.put_audit(entry(funded.escrow_id, 1, "2" * 32, note="rerun"))

    log = contract_store.audit_log(funded.escrow_id)

    assert log == [
        entry(funded.escrow_id, 0, "0" * 32),
        entry(funded.escrow_id, 1, "2" * 32, "rerun"),
    ]
    assert contract_store.audit_log(uuid.uuid4().hex) == []
