"""Bad escrow requests get a clear 4xx and change nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.escrow.conftest import EscrowApi


def test_a_created_escrow_is_located_and_normalised(api: EscrowApi) -> None:
    answer = api.post(
        "/api/escrow",
        {
            "amount": 500,
            "currency": "jpy",
            "buyerEmail": "b@example.com",
            "sellerEmail": "s@example.com",
        },
    )
    assert answer.status == 201
    assert answer.headers["Location"] == f"/api/escrow/{answer.body['escrowId']}"
    assert answer.body["currency"] == "JPY"
    assert answer.body["partnerWebhookUrl"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"amount": 0, "currency": "EUR", "buyerEmail": "b@x.io", "sellerEmail": "s@x.io"},
            ["amount"],
        ),
        (
            {"amount": 1, "currency": "EURO", "buyerEmail": "b@x.io", "sellerEmail": "s@x.io"},
            ["currency"],
        ),
        (
            {"amount": 1, "currency": "EUR", "buyerEmail": "nobody", "sellerEmail": "s@x.io"},
            ["buyerEmail"],
        ),
        (
            {
                "amount": 1,
                "currency": "EUR",
                "buyerEmail": "b@x.io",
                "sellerEmail": "s@x.io",
                "partnerWebhookUrl": "mailto:p@x.io",
            },
            ["partnerWebhookUrl"],
        ),
        (
            {
                "amount": 1,
                "currency": "EUR",
                "buyerEmail": "b@x.io",
                "sellerEmail": "s@x.io",
                "extra": 1,
            },
            ["extra"],
        ),
    ],
)
def test_an_invalid_escrow_is_refused_with_the_fields_at_fault(
    api: EscrowApi, body: dict[str, object], fields: list[str]
) -> None:
    answer = api.post("/api/escrow", body)
    assert answer.status == 400
    assert [f["field"] for f in answer.body["fields"]] == fields


def test_a_body_that_is_not_json_is_refused(api: EscrowApi) -> None:
    answer = api.post("/api/escrow", b"{amount: 1")
    assert answer.status == 400
    assert answer.body["error"] == "body is not valid JSON"


@pytest.mark.parametrize("escrow_id", [uuid.uuid4().hex, "not-an-id", "A" * 32])
def test_an_unknown_escrow_is_404_for_every_route(api: EscrowApi, escrow_id: str) -> None:
    assert api.get(f"/api/escrow/{escrow_id}").status == 404
    for action in ("release", "refund", "dispute"):
        assert api.act(escrow_id, action).status == 404
    resolve = api.act(escrow_id, "dispute/resolve", {"resolution": "release", "note": "n"})
    assert resolve.status == 404


def test_resolving_an_escrow_that_is_not_disputed_is_409(api: EscrowApi) -> None:
    escrow_id = api.create()["escrowId"]

    answer = api.act(escrow_id, "dispute/resolve", {"resolution": "release", "note": "n"})

    assert answer.status == 409
    assert answer.body["state"] == "funded"
    assert api.show(escrow_id)["state"] == "funded"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"resolution": "split", "note": "half each"}, ["resolution"]),
        ({"resolution": "release"}, ["note"]),
        ({"resolution": "refund", "note": ""}, ["note"]),
    ],
)
def test_a_resolution_must_say_which_way_and_why(
    api: EscrowApi, body: dict[str, object], fields: list[str]
) -> None:
    escrow_id = api.create()["escrowId"]
    api.act(escrow_id, "dispute")

    answer = api.act(escrow_id, "dispute/resolve", body)

    assert answer.status == 400
    assert [f["field"] for f in answer.body["fields"]] == fields
    assert api.show(escrow_id)["state"] == "disputed"


def test_a_note_with_unknown_fields_is_refused_and_changes_nothing(api: EscrowApi) -> None:
    escrow_id = api.create()["escrowId"]

    answer = api.act(escrow_id, "release", {"note": "ok", "amount": 1})

    assert answer.status == 400
    assert api.show(escrow_id)["state"] == "funded"
