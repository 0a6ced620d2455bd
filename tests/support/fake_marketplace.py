"""A fake SaaS Fulfillment API v2 on http://127.0.0.1, in the test's event loop.

It keeps subscriptions and operations, checks the bearer token MSAL got from the fake issuer
(audience: the marketplace's resource), issues operation ids for PATCH and DELETE, can answer a
queue of failures first (429 with Retry-After, 503), and fires webhooks at the bot the way the
marketplace does (a bearer token of the Entra issuer in the Authorization header).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from aiohttp import web

from tests.support.fake_issuer import FakeIssuer

RESOURCE = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7"
API_VERSION = "2018-08-31"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeMarketplace:
    issuer: FakeIssuer
    publisher: str = "contoso-pub"
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # landing token -> subscription id
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    # The status an operation we issue for a PATCH ends in (what a GET of it says) ...
    patch_outcome: str = "Succeeded"
    # ... after this many GETs of it answered InProgress.
    patch_runs_for: int = 0
    # Operations still running: id -> [GETs left answering InProgress, the status it ends in].
    running: dict[str, list[Any]] = field(default_factory=dict)

    async def start(self) -> None:
        app = web.Application(middlewares=[self._check])
        base = "/api/saas/subscriptions"
        app.router.add_post(f"{base}/resolve", self._resolve)
        app.router.add_get(base, self._list)
        app.router.add_get(f"{base}/{{sid}}", self._get)
        app.router.add_patch(f"{base}/{{sid}}", self._patch)
        app.router.add_delete(f"{base}/{{sid}}", self._delete)
        app.router.add_post(f"{base}/{{sid}}/activate", self._activate)
        app.router.add_get(f"{base}/{{sid}}/listAvailablePlans", self._plans)
        app.router.add_get(f"{base}/{{sid}}/operations", self._operations)
        app.router.add_get(f"{base}/{{sid}}/operations/{{oid}}", self._operation)
        app.router.add_patch(f"{base}/{{sid}}/operations/{{oid}}", self._patch_operation)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    # -- test helpers ---------------------------------------------------------------------

    def add_subscription(
        self,
        tenant: str,
        plan: str,
        *,
        purchaser_oid: str = "aad-buyer",
        purchaser_tenant: str | None = None,
        status: str = "PendingFulfillmentStart",
        offer: str = "teamswork",
    ) -> tuple[str, str]:
        """A purchase: (subscription id, the landing page token for it)."""
        sid = str(uuid.uuid4())
        self.subscriptions[sid] = {
            "id": sid,
            "publisherId": self.publisher,
            "offerId": offer,
            "name": f"TeamsWork for {tenant}",
            "saasSubscriptionStatus": status,
            "beneficiary": {
                "emailId": f"admin@{tenant}.example",
                "objectId": "aad-beneficiary",
                "tenantId": tenant,
                "puid": "1000",
            },
            "purchaser": {
                "emailId": f"buyer@{purchaser_tenant or tenant}.example",
                "objectId": purchaser_oid,
                "tenantId": purchaser_tenant or tenant,
                "puid": "1001",
            },
            "planId": plan,
            "quantity": 1,
            "term": {"termUnit": "P1M", "startDate": "2026-11-02", "endDate": "2026-12-01"},
            "autoRenew": True,
            "isTest": True,
            "isFreeTrial": False,
            "allowedCustomerOperations": ["Delete", "Update", "Read"],
            "sandboxType": "None",
            "sessionMode": "None",
            "someFieldAddedLater": {"nested": [1, 2]},
        }
        token = f"token+{uuid.uuid4().hex}/="  # marketplace tokens carry + / =
        self.tokens[token] = sid
        return sid, token

    def operation(
        self,
        sid: str,
        action: str,
        *,
        plan: str | None = None,
        quantity: int | None = None,
        status: str = "InProgress",
    ) -> dict[str, Any]:
        sub = self.subscriptions[sid]
        op = {
            "id": str(uuid.uuid4()),
            "activityId": str(uuid.uuid4()),
            "publisherId": self.publisher,
            "offerId": sub["offerId"],
            "planId": plan or sub["planId"],
            "quantity": quantity if quantity is not None else sub["quantity"],
            "subscriptionId": sid,
            "timeStamp": "2026-11-05T10:00:00.0000000Z",
            "action": action,
            "status": status,
            "operationRequestSource": "Azure",
            "patched": None,
        }
        self.operations[op["id"]] = op
        return op

    def partner_operations(self, sid: str) -> list[dict[str, Any]]:
        """The operations the bot started (its PATCHes), oldest first."""
        return [
            o
            for o in self.operations.values()
            if o["subscriptionId"] == sid and o["operationRequestSource"] == "Partner"
        ]

    def finish(self, op: dict[str, Any], status: str | None = None) -> None:
        """A running operation ends now (in `status`, else the one it was to end in)."""
        _, outcome = self.running.pop(op["id"])
        op["status"] = status or outcome
        if op["status"] == "Succeeded" and op["action"] == "ChangePlan":
            self.subscriptions[op["subscriptionId"]]["planId"] = op["planId"]

    def webhook_body(self, op: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in op.items() if k != "patched"}
        body["subscription"] = dict(self.subscriptions[op["subscriptionId"]])
        body["purchaseToken"] = None
        return body

    async def fire(
        self, url: str, op: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any] | None]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json=self.webhook_body(op), headers=headers) as response,
        ):
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    def calls(self, method: str, fragment: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and fragment in s.path]

    # -- the API --------------------------------------------------------------------------

    @web.middleware
    async def _check(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.seen.append(Seen(request.method, request.path, dict(request.headers), body))
        if request.query.get("api-version") != API_VERSION:
            return web.json_response({"error": "api-version"}, status=400)
        auth = request.headers.get("Authorization", "")
        try:
            jwt.decode(
                auth.removeprefix("Bearer "),
                self.issuer.key.public_key(),
                algorithms=["RS256"],
                audience=RESOURCE,
            )
        except jwt.PyJWTError:
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.failures:
            status, retry_after = self.failures.pop(0)
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.json_response({"error": "busy"}, status=status, headers=headers)
        response: web.StreamResponse = await handler(request)
        return response

    def _sub(self, request: web.Request) -> dict[str, Any]:
        sub = self.subscriptions.get(request.match_info["sid"])
        if sub is None:
            raise web.HTTPNotFound()
        return sub

    async def _resolve(self, request: web.Request) -> web.Response:
        sid = self.tokens.get(request.headers.get("x-ms-marketplace-token", ""))
        if sid is None:
            return web.json_response({"error": "invalid token"}, status=400)
        sub = self.subscriptions[sid]
        return web.json_response(
            {
                "id": sid,
                "subscriptionName": sub["name"],
                "offerId": sub["offerId"],
                "planId": sub["planId"],
                "quantity": sub["quantity"],
                "subscription": sub,
                "newField": True,
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({"subscriptions": list(self.subscriptions.values())})

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response(self._sub(request))

    async def _activate(self, request: web.Request) -> web.Response:
        sub = self._sub(request)
        body = await request.json()
        sub["planId"] = body["planId"]
        sub["saasSubscriptionStatus"] = "Subscribed"
        return web.Response(status=200)

    async def _plans(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"plans": [{"planId": "standard-monthly"}, {"planId": "premium-monthly"}]}
        )

    def _accepted(self, request: web.Request, op: dict[str, Any]) -> web.Response:
        location = f"{self.url}/saas/subscriptions/{op['subscriptionId']}/operations/{op['id']}"
        return web.json_response(
            {}, status=202, headers={"Operation-Location": f"{location}?api-version={API_VERSION}"}
        )

    async def _patch(self, request: web.Request) -> web.Response:
        sub = self._sub(request)
        body = await request.json()
        action = "ChangePlan" if "planId" in body else "ChangeQuantity"
        op = self.operation(
            sub["id"],
            action,
            plan=body.get("planId"),
            quantity=body.get("quantity"),
            status=self.patch_outcome,
        )
        op["operationRequestSource"] = "Partner"
        if self.patch_runs_for:
            op["status"] = "InProgress"
            self.running[op["id"]] = [self.patch_runs_for, self.patch_outcome]
        elif self.patch_outcome == "Succeeded":
            sub["planId"] = body.get("planId", sub["planId"])
        return self._accepted(request, op)

    async def _delete(self, request: web.Request) -> web.Response:
        sub = self._sub(request)
        op = self.operation(sub["id"], "Unsubscribe", status="Succeeded")
        sub["saasSubscriptionStatus"] = "Unsubscribed"
        return self._accepted(request, op)

    async def _operations(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        ops = [o for o in self.operations.values() if o["subscriptionId"] == sid]
        return web.json_response({"operations": ops})

    async def _operation(self, request: web.Request) -> web.Response:
        op = self.operations.get(request.match_info["oid"])
        if op is None or op["subscriptionId"] != request.match_info["sid"]:
            return web.json_response({"error": "not found"}, status=404)
        if op["id"] in self.running:
            self.running[op["id"]][0] -= 1
            if self.running[op["id"]][0] < 0:
                self.finish(op)
        return web.json_response(op)

    async def _patch_operation(self, request: web.Request) -> web.Response:
        op = self.operations.get(request.match_info["oid"])
        if op is None:
            return web.json_response({"error": "not found"}, status=404)
        status = (await request.json()).get("status")
        op["patched"] = status
        if status == "Success":
            op["status"] = "Succeeded"
            sub = self.subscriptions[op["subscriptionId"]]
            if op["action"] == "ChangePlan":
                sub["planId"] = op["planId"]
            if op["action"] == "ChangeQuantity":
                sub["quantity"] = op["quantity"]
        else:
            op["status"] = "Failed"
        return web.json_response({})
