"""The SaaS Fulfillment API v2 (api-version 2018-08-31), over aiohttp.

Every call carries a fresh `x-ms-requestid` and a `x-ms-correlationid`, has a timeout, and is
retried on 429 and 5xx (and on connection errors) with exponential backoff that honours
`Retry-After`, by tenacity. Responses are parsed leniently: unknown fields are ignored, as the
API promises to add some.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.services.marketplace import Purchase

log = logging.getLogger(__name__)

API_VERSION = "2018-08-31"
# The marketplace's own Entra application: the resource of the Fulfillment API's tokens.
MARKETPLACE_RESOURCE = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7"
SCOPE = f"{MARKETPLACE_RESOURCE}/.default"
MAX_RETRY_AFTER = 60.0


class FulfillmentError(Exception):
    """The API refused the call or could not be reached (after the retries)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Retryable(FulfillmentError):
    """429, 5xx or a connection failure: worth another try."""

    def __init__(self, message: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Operation:
    id: str
    subscription_id: str
    action: str
    status: str
    plan_id: str | None = None
    quantity: int | None = None
    offer_id: str | None = None
    publisher_id: str | None = None


@dataclass(frozen=True)
class AcceptedOperation:
    """The answer to a PATCH or DELETE: 202 with the operation to follow."""

    operation_id: str | None
    location: str | None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _opt_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_subscription(data: Mapping[str, Any]) -> Purchase:
    """A subscription (get, list, the `subscription` of resolve or of a webhook)."""
    beneficiary = _dict(data.get("beneficiary"))
    purchaser = _dict(data.get("purchaser"))
    term = _dict(data.get("term"))
    return Purchase(
        subscription_id=_text(data.get("id")),
        tenant_id=_text(beneficiary.get("tenantId")),
        offer_id=_text(data.get("offerId")),
        marketplace_plan=_text(data.get("planId")),
        quantity=_int(data.get("quantity")),
        status=_text(data.get("saasSubscriptionStatus")),
        name=_text(data.get("name")),
        purchaser_tenant_id=_opt_text(purchaser.get("tenantId")),
        purchaser_object_id=_opt_text(purchaser.get("objectId")),
        purchaser_email=_opt_text(purchaser.get("emailId")),
        beneficiary_email=_opt_text(beneficiary.get("emailId")),
        term_start=_date(term.get("startDate")),
        term_end=_date(term.get("endDate")),
    )


def parse_operation(data: Mapping[str, Any]) -> Operation:
    return Operation(
        id=_text(data.get("id")),
        subscription_id=_text(data.get("subscriptionId")),
        action=_text(data.get("action")),
        status=_text(data.get("status")),
        plan_id=_opt_text(data.get("planId")),
        quantity=_int(data.get("quantity")),
        offer_id=_opt_text(data.get("offerId")),
        publisher_id=_opt_text(data.get("publisherId")),
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    delta = (when - datetime.now(when.tzinfo)).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


class _WaitRetryAfter:
    """Exponential backoff with jitter, or the server's Retry-After when it gave one."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._backoff = wait_exponential_jitter(initial=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, Retryable) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))


Sleep = Callable[[float], Awaitable[None]]
TokenSource = Callable[[], Awaitable[str]]


class FulfillmentClient:
    """`await client.get_subscription(id)`; `token` gives a bearer token (MSAL-cached)."""

    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Sleep | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._attempts = attempts
        self._wait = _WaitRetryAfter(backoff, max_backoff)
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> tuple[int, Any, Mapping[str, str]]:
        correlation = correlation_id or str(uuid.uuid4())
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, Retryable)),
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            reraise=True,
            sleep=self._sleep or asyncio.sleep,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, json, headers or {}, correlation)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        extra: Mapping[str, str],
        correlation: str,
    ) -> tuple[int, Any, Mapping[str, str]]:
        url = f"{self.base_url}{path}"
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}api-version={API_VERSION}"
        headers = {
            "Authorization": f"Bearer {await self._token()}",
            "x-ms-requestid": str(uuid.uuid4()),
            "x-ms-correlationid": correlation,
            "Accept": "application/json",
            **extra,
        }
        try:
            async with self._http().request(method, url, json=body, headers=headers) as response:
                status = response.status
                text = await response.text()
                answer_headers = dict(response.headers)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("marketplace %s %s failed: %r", method, path, error)
            raise Retryable(f"{method} {path}: {error!r}", None, None) from error
        if status == 429 or status >= 500:
            log.info("marketplace %s %s answered %d; retrying", method, path, status)
            raise Retryable(
                f"{method} {path}: HTTP {status}",
                status,
                _retry_after(response.headers.get("Retry-After")),
            )
        if status >= 400:
            raise FulfillmentError(f"{method} {path}: HTTP {status}: {text[:300]}", status)
        data: Any = None
        if text.strip():
            try:
                import json as _json

                data = _json.loads(text)
            except ValueError:
                data = None
        return status, data, answer_headers

    # -- the calls ------------------------------------------------------------------------

    async def resolve(self, marketplace_token: str) -> Purchase:
        """The purchase behind a landing page's `token` (URL-decoded here if it still is)."""
        token = unquote(marketplace_token) if "%" in marketplace_token else marketplace_token
        _, data, _ = await self._call(
            "POST", "/saas/subscriptions/resolve", headers={"x-ms-marketplace-token": token}
        )
        data = _dict(data)
        nested = dict(_dict(data.get("subscription")))
        nested.setdefault("id", data.get("id"))
        nested.setdefault("planId", data.get("planId"))
        nested.setdefault("offerId", data.get("offerId"))
        nested.setdefault("quantity", data.get("quantity"))
        nested.setdefault("name", data.get("subscriptionName"))
        return parse_subscription(nested)

    async def activate(self, subscription_id: str, plan_id: str, quantity: int | None) -> None:
        body: dict[str, Any] = {"planId": plan_id}
        if quantity is not None:
            body["quantity"] = quantity
        await self._call("POST", f"/saas/subscriptions/{subscription_id}/activate", json=body)

    async def get_subscription(self, subscription_id: str) -> Purchase:
        _, data, _ = await self._call("GET", f"/saas/subscriptions/{subscription_id}")
        return parse_subscription(_dict(data))

    async def list_subscriptions(self) -> list[Purchase]:
        found: list[Purchase] = []
        path: str | None = "/saas/subscriptions"
        while path:
            _, data, _ = await self._call("GET", path)
            data = _dict(data)
            items = data.get("subscriptions")
            found.extend(parse_subscription(i) for i in (items or []) if isinstance(i, Mapping))
            path = self._next(data.get("@nextLink") or data.get("nextLink"))
        return found

    def _next(self, link: Any) -> str | None:
        if not isinstance(link, str) or not link:
            return None
        if link.startswith(self.base_url):
            link = link[len(self.base_url) :]
        # Our api-version is added again on each call.
        return str(link).replace(f"api-version={API_VERSION}", "").rstrip("?&").replace("?&", "?")

    async def list_plans(self, subscription_id: str) -> list[str]:
        _, data, _ = await self._call(
            "GET", f"/saas/subscriptions/{subscription_id}/listAvailablePlans"
        )
        plans = _dict(data).get("plans") or []
        return [
            p["planId"]
            for p in plans
            if isinstance(p, Mapping) and isinstance(p.get("planId"), str)
        ]

    async def change_plan(self, subscription_id: str, plan_id: str) -> AcceptedOperation:
        return await self._accepted(
            "PATCH", f"/saas/subscriptions/{subscription_id}", {"planId": plan_id}
        )

    async def change_quantity(self, subscription_id: str, quantity: int) -> AcceptedOperation:
        return await self._accepted(
            "PATCH", f"/saas/subscriptions/{subscription_id}", {"quantity": quantity}
        )

    async def delete(self, subscription_id: str) -> AcceptedOperation:
        return await self._accepted("DELETE", f"/saas/subscriptions/{subscription_id}", None)

    async def _accepted(
        self, method: str, path: str, body: Mapping[str, Any] | None
    ) -> AcceptedOperation:
        _, data, headers = await self._call(method, path, json=body)
        location = headers.get("Operation-Location") or headers.get("operation-location")
        operation_id = None
        if location:
            operation_id = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        elif isinstance(data, Mapping) and isinstance(data.get("id"), str):
            operation_id = data["id"]
        return AcceptedOperation(operation_id, location)

    async def list_operations(self, subscription_id: str) -> list[Operation]:
        _, data, _ = await self._call("GET", f"/saas/subscriptions/{subscription_id}/operations")
        items = _dict(data).get("operations") or []
        return [parse_operation(i) for i in items if isinstance(i, Mapping)]

    async def get_operation(self, subscription_id: str, operation_id: str) -> Operation:
        _, data, _ = await self._call(
            "GET", f"/saas/subscriptions/{subscription_id}/operations/{operation_id}"
        )
        return parse_operation(_dict(data))

    async def patch_operation(self, subscription_id: str, operation_id: str, success: bool) -> None:
        await self._call(
            "PATCH",
            f"/saas/subscriptions/{subscription_id}/operations/{operation_id}",
            json={"status": "Success" if success else "Failure"},
        )
