"""One contract, two stores: the in-memory fake the unit tests use must behave like DynamoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.scenarios.generation import (
    generate_month_events,
    generate_profile,
    generate_trends,
)
from chalicelib.scenarios.records import Checkpoint, ScenarioRecord
from chalicelib.scenarios.runtime import scenario_store
from chalicelib.scenarios.store import (
    LeaseLostError,
    LeaseUnavailableError,
    NotRetryableError,
    ScenarioExistsError,
    ScenarioStore,
)
from chalicelib.settings import get_settings
from devstack.stack import LocalStack
from tests.fakes.scenario_store import InMemoryScenarioStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = 60


@pytest.fixture(params=["in-memory", "dynamodb"])
def contract_store(request: pytest.FixtureRequest) -> Iterator[ScenarioStore]:
    if request.param == "in-memory":
        yield InMemoryScenarioStore()
    else:
        request.getfixturevalue("local_stack")
        get_settings.cache_clear()
        yield scenario_store(get_settings())


@pytest.fixture
def queued(contract_store: ScenarioStore) -> str:
    scenario_id = uuid.uuid4().hex
    contract_store.create(
        ScenarioRecord(
            scenario_id=scenario_id, scenario_type="bakery", seed=1, created_at=NOW, updated_at=NOW
        )
    )
    return scenario_id


def _acquire(store: ScenarioStore, scenario_id: str, owner: str, at: datetime = NOW) -> None:
    store.acquire_lease(scenario_id, run=1, owner=owner, now=at, lease_seconds=LEASE)


def _advance(store: ScenarioStore, scenario_id: str, owner: str, progress: int) -> None:
    store.advance(
        scenario_id,
        owner=owner,
        stage="starting",
        progress=progress,
        checkpoint=Checkpoint(),
        now=NOW,
        lease_seconds=LEASE,
    )


def test_an_id_is_created_once(contract_store: ScenarioStore, queued: str) -> None:
    record = contract_store.get(queued)
    assert record is not None
    with pytest.raises(ScenarioExistsError):
        contract_store.create(record)


def test_a_live_lease_is_exclusive_until_it_expires(
    contract_store: ScenarioStore, queued: str
) -> None:
    _acquire(contract_store, queued, "a")
    with pytest.raises(LeaseUnavailableError) as held:
        _acquire(contract_store, queued, "b", NOW + timedelta(seconds=LEASE - 1))
    assert held.value.record is not None
    assert held.value.record.lease_owner == "a"
    _acquire(contract_store, queued, "b", NOW + timedelta(seconds=LEASE + 1))
    with pytest.raises(LeaseUnavailableError):
        contract_store.acquire_lease(queued, run=2, owner="c", now=NOW, lease_seconds=LEASE)


def test_progress_is_written_only_by_the_holder_and_never_backwards(
    contract_store: ScenarioStore, queued: str
) -> None:
    _acquire(contract_store, queued, "a")
    _advance(contract_store, queued, "a", 10)
    _advance(contract_store, queued, "a", 10)  # rewriting the same values is a success
    with pytest.raises(LeaseLostError):
        _advance(contract_store, queued, "a", 5)
    with pytest.raises(LeaseLostError):
        _advance(contract_store, queued, "intruder", 50)
    record = contract_store.get(queued)
    assert record is not None
    assert record.progress == 10


def test_a_live_run_can_only_be_failed_by_its_holder(
    contract_store: ScenarioStore, queued: str
) -> None:
    _acquire(contract_store, queued, "a")
    assert not contract_store.fail(queued, run=1, error="callback", now=NOW)
    assert not contract_store.fail(queued, run=1, error="other", now=NOW, owner="b")
    assert contract_store.fail(queued, run=1, error="own", now=NOW, owner="a")
    record = contract_store.get(queued)
    assert record is not None
    assert (record.status, record.error, record.lease_owner) == ("failed", "own", None)
    assert not contract_store.fail(queued, run=1, error="again", now=NOW)


def test_an_expired_lease_does_not_protect_a_run(
    contract_store: ScenarioStore, queued: str
) -> None:
    _acquire(contract_store, queued, "a")
    assert contract_store.fail(queued, run=1, error="late", now=NOW + timedelta(seconds=LEASE + 1))


def test_only_a_failed_scenario_restarts_as_a_new_run(
    contract_store: ScenarioStore, queued: str
) -> None:
    with pytest.raises(NotRetryableError):
        contract_store.restart(queued, now=NOW)
    contract_store.fail(queued, run=1, error="x", now=NOW)
    restarted = contract_store.restart(queued, now=NOW)
    assert (restarted.status, restarted.run, restarted.progress) == ("queued", 2, 0)
    assert restarted.checkpoint == Checkpoint()
    assert not contract_store.fail(queued, run=1, error="stale run", now=NOW)


def test_events_are_keyed_by_id_and_paged_in_order(
    contract_store: ScenarioStore, queued: str
) -> None:
    profile = generate_profile("bakery", 1)
    events = generate_month_events(profile, generate_trends(profile, 1), 2, 1)
    contract_store.put_events(queued, events)
    contract_store.put_events(queued, events)  # a rerun overwrites
    assert [e.event_id for e in contract_store.iter_events(queued)] == sorted(
        e.event_id for e in events
    )
    first, cursor = contract_store.page_events(queued, limit=7, cursor=None)
    second, _ = contract_store.page_events(queued, limit=7, cursor=cursor)
    assert [e.event_id for e in first + second] == sorted(e.event_id for e in events)[:14]


def test_the_contract_covers_the_real_store(local_stack: LocalStack) -> None:
    # Guards the parametrisation above: the second store really is DynamoDB.
    from chalicelib.scenarios.dynamodb_store import DynamoDBScenarioStore

    get_settings.cache_clear()
    assert isinstance(scenario_store(get_settings()), DynamoDBScenarioStore)


def test_a_restarted_scenario_expires_as_late_as_a_new_one(local_stack: LocalStack) -> None:
    from chalicelib.dynamodb import dynamodb_client

    get_settings.cache_clear()
    settings = get_settings()
    store = scenario_store(settings)
    scenario_id = uuid.uuid4().hex
    store.create(
        ScenarioRecord(
            scenario_id=scenario_id, scenario_type="bakery", seed=1, created_at=NOW, updated_at=NOW
        )
    )
    store.fail(scenario_id, run=1, error="x", now=NOW)
    later = NOW + timedelta(days=20)
    store.restart(scenario_id, now=later)
    item = dynamodb_client(settings).get_item(
        TableName=settings.longhaul_table,
        Key={"pk": {"S": f"SCENARIO#{scenario_id}"}, "sk": {"S": "META"}},
    )["Item"]
    retention = timedelta(days=settings.scenario_retention_days)
    assert int(item["expiresAt"]["N"]) == int((later + retention).timestamp())
