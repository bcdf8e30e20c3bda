"""Checkout routes: take an order, show it, and manage the products it draws stock from."""

from __future__ import annotations

import re

from chalice.app import Blueprint, Response

from chalicelib.handlers.http import HttpProblem, answers_problems, json_response, parse_body

blueprint = Blueprint(__name__)

# Kept in step with chalicelib.checkout.models (not imported here, to keep cold starts cheap):
# an id that cannot exist is a 404 without a database read.
_ORDER_ID = re.compile(r"^[0-9a-f]{32}$")
_PRODUCT_ID = re.compile(r"^[^\s/]{1,128}$")


@blueprint.route("/api/checkout", methods=["POST"])
@answers_problems
def checkout() -> Response:
    """Accept an order and queue it: 202 with where to follow it; 503 if it could not be queued."""
    import uuid

    from chalicelib.checkout.models import CheckoutRequest
    from chalicelib.checkout.runtime import order_store, send_checkout_command
    from chalicelib.checkout.service import NotQueuedError, accept_checkout
    from chalicelib.observability import logger, safe_log_id
    from chalicelib.settings import get_settings

    request = parse_body(blueprint.current_request, CheckoutRequest)
    correlation_id = safe_log_id(logger.get_correlation_id()) or uuid.uuid4().hex
    try:
        order = accept_checkout(
            request,
            store=order_store(get_settings()),
            send=send_checkout_command,
            correlation_id=correlation_id,
        )
    except NotQueuedError as refused:
        # The id is withdrawn: it answers 404 and no later delivery can place it.
        raise HttpProblem(
            503,
            "the order could not be queued and was not placed; try again",
            orderId=refused.order_id,
            status="withdrawn",
        ) from refused
    status_url = f"/api/orders/{order.order_id}"
    return json_response(
        {"orderId": order.order_id, "correlationId": correlation_id, "statusUrl": status_url},
        202,
        {"Location": status_url},
    )


@blueprint.route("/api/orders/{order_id}", methods=["GET"])
@answers_problems
def order(order_id: str) -> Response:
    """The order, its state (pending, confirmed, rejected with a reason, emailed) and lines."""
    from chalicelib.checkout.runtime import order_store
    from chalicelib.settings import get_settings

    found = order_store(get_settings()).get(order_id) if _ORDER_ID.match(order_id) else None
    if found is None:
        raise HttpProblem(404, "no such order")
    return json_response(found.view())


def _checked_product_id(product_id: str) -> str:
    if not _PRODUCT_ID.match(product_id):
        raise HttpProblem(404, "no such product")
    return product_id


@blueprint.route("/api/products/{product_id}", methods=["GET"])
@answers_problems
def product(product_id: str) -> Response:
    """The product with its current stock."""
    from chalicelib.checkout.runtime import order_store
    from chalicelib.settings import get_settings

    found = order_store(get_settings()).get_product(_checked_product_id(product_id))
    if found is None:
        raise HttpProblem(404, "no such product")
    return json_response(found.model_dump(mode="json", by_alias=True))


@blueprint.route("/api/products/{product_id}", methods=["PUT"])
@answers_problems
def put_product(product_id: str) -> Response:
    """Create or replace a product, its stock set to the given value (admin bearer token)."""
    from chalicelib.checkout.models import Product, ProductUpdate
    from chalicelib.checkout.runtime import order_store
    from chalicelib.handlers.bearer import require_bearer
    from chalicelib.settings import get_settings

    settings = get_settings()
    require_bearer(blueprint.current_request, settings.admin_token)
    update = parse_body(blueprint.current_request, ProductUpdate)
    saved = Product(product_id=_checked_product_id(product_id), **update.model_dump())
    order_store(settings).put_product(saved)
    return json_response(saved.model_dump(mode="json", by_alias=True))
