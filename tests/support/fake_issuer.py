"""A fake Bot Framework token service on https://127.0.0.1, for offline auth tests.

It plays both sides of Bot Framework authentication:

- **to bot from channel**: an OpenID configuration whose `jwks_uri` lists a test RSA key,
  endorsed for the channels Teams uses, and `channel_token()` to sign the bearer token the
  channel service would send (RS256, `kid` header, the claims botframework-connector checks:
  `iss`, `aud` = the bot's app id, `serviceurl` = the activity's serviceUrl, `nbf`, `exp`);
- **to channel from bot**: the login authority msal asks for a client-credentials token before
  the bot posts a reply: `{authority}/.well-known/openid-configuration` (and the `/v2.0/`
  variant), a token endpoint that checks the app id and password, and instance discovery.

Why a thread and TLS:

- botframework-connector 4.17.1 fetches the OpenID metadata with blocking `requests.get`, and
  msal fetches the bot's outgoing token with blocking `requests` too, both *on the event loop
  thread* (msrest signs the session before it hands the send to its executor). A server on the
  test's own loop would deadlock, so this one runs its own loop in a thread.
- msal accepts only an `https://` authority, so the server speaks TLS with a self-signed
  certificate made at start; point `requests` at it with `REQUESTS_CA_BUNDLE=issuer.ca_file`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import RSAAlgorithm

# What the Bot Connector service sends as `aud` of the bot's outgoing token, and what
# botframework-connector asks msal for (the scope is this plus "/.default").
BOT_CONNECTOR_AUDIENCE = "https://api.botframework.com"
# The endorsements Teams' signing keys carry; the SDK requires the activity's channelId in them.
TEAMS_ENDORSEMENTS: tuple[str, ...] = ("msteams",)
# msal calls an authority "ADFS" when its first path segment is "adfs" and then skips instance
# discovery (a request to login.microsoftonline.com that cannot work offline). The stock
# MicrosoftAppCredentials gives the product no way to pass `instance_discovery=False`.
LOGIN_TENANT = "adfs"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_token(
    claims: Mapping[str, Any],
    key: rsa.RSAPrivateKey,
    kid: str | None,
    *,
    algorithm: str = "RS256",
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A JWT as Bot Framework signs one: RS256 with the key id in the header."""
    header: dict[str, Any] = dict(headers or {})
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(dict(claims), key, algorithm=algorithm, headers=header)


def public_jwk(
    key: rsa.RSAPrivateKey, kid: str, endorsements: Iterable[str] = TEAMS_ENDORSEMENTS
) -> dict[str, Any]:
    """A JWKS entry shaped like login.botframework.com's: kty/use/kid/n/e and endorsements."""
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(use="sig", kid=kid, endorsements=list(endorsements))
    return jwk


def self_signed_certificate(
    directory: Path,
) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, so it can be the whole trust bundle."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-issuer.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "issuer-cert.pem"
    key_file = directory / "issuer-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass(frozen=True)
class TokenRequest:
    """One request the bot made to the token endpoint (the form fields msal posted)."""

    path: str
    form: dict[str, str]

    @property
    def client_id(self) -> str | None:
        return self.form.get("client_id")

    @property
    def scope(self) -> str | None:
        return self.form.get("scope")

    @property
    def grant_type(self) -> str | None:
        return self.form.get("grant_type")


class FakeIssuer:
    """Bot Framework's token service, on https://127.0.0.1:<port>, in a thread of its own.

    Use as a context manager (or call start() and close()). Every instance serves under a fresh
    path prefix, because botframework-connector caches OpenID metadata per URL for a day in a
    class attribute, and a later test could otherwise get a port (and so a URL) reused.
    """

    def __init__(
        self,
        *,
        endorsements: Sequence[str] = TEAMS_ENDORSEMENTS,
        clients: Mapping[str, str] | None = None,
        token_lifetime: int = 3600,
    ) -> None:
        self.key = new_rsa_key()
        self.kid = f"test-key-{uuid.uuid4().hex[:8]}"
        self.endorsements = tuple(endorsements)
        # app id -> password the token endpoint accepts
        self.clients: dict[str, str] = dict(clients or {})
        self.token_lifetime = token_lifetime
        # Who signs in at the authorization endpoint (the authorization-code flow).
        self.user: dict[str, str] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[TokenRequest] = []
        self.access_tokens: list[str] = []
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self._run = uuid.uuid4().hex[:12]
        self._port: int | None = None
        self._dir: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # -- addresses ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._port is not None, "start the issuer first"
        return f"https://127.0.0.1:{self._port}"

    @property
    def ca_file(self) -> str:
        """The PEM bundle that makes `requests` trust this server (REQUESTS_CA_BUNDLE)."""
        assert self._dir is not None, "start the issuer first"
        return str(self._dir / "issuer-cert.pem")

    @property
    def openid_metadata_url(self) -> str:
        """For TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL (Settings.openid_metadata_url)."""
        return f"{self.base_url}/{self._run}/v1/.well-known/openidconfiguration"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/{self._run}/v1/.well-known/keys"

    @property
    def token_issuer(self) -> str:
        """For TO_BOT_FROM_CHANNEL_TOKEN_ISSUER (Settings.token_issuer): the `iss` it signs."""
        return f"{self.base_url}/{self._run}/botframework"

    @property
    def login_url(self) -> str:
        """For TO_CHANNEL_FROM_BOT_LOGIN_URL (Settings.login_url): msal's authority."""
        return f"{self.base_url}/{LOGIN_TENANT}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/{LOGIN_TENANT}/oauth2/v2.0/token"

    # -- tokens -------------------------------------------------------------------------------

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign with this issuer's published key, or with `key` (kid defaults to ours)."""
        return sign_token(claims, key or self.key, kid or self.kid, headers=headers)

    def channel_claims(
        self,
        app_id: str,
        service_url: str,
        *,
        issued_at: float | None = None,
        lifetime: int = 3600,
        **overrides: Any,
    ) -> dict[str, Any]:
        """The claims of a token the channel service sends to the bot. PyJWT checks `exp` and
        `nbf` against the real clock, so times are real time, not the app's FixedClock."""
        now = int(time.time() if issued_at is None else issued_at)
        claims: dict[str, Any] = {
            "iss": self.token_issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + lifetime,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def channel_token(
        self,
        app_id: str,
        service_url: str,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        issued_at: float | None = None,
        lifetime: int = 3600,
        **overrides: Any,
    ) -> str:
        claims = self.channel_claims(
            app_id, service_url, issued_at=issued_at, lifetime=lifetime, **overrides
        )
        return self.sign(claims, key=key, kid=kid)

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """Decode a token this issuer handed to the bot (raises if it is not one of ours)."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self.key.public_key(),
            algorithms=["RS256"],
            audience=BOT_CONNECTOR_AUDIENCE,
            issuer=f"{self.base_url}/{LOGIN_TENANT}/",
        )
        return claims

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> FakeIssuer:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-issuer-"))
        cert_file, key_file = self_signed_certificate(self._dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(context, started), name="fake-issuer", daemon=True
        )
        self._thread.start()
        if not started.wait(timeout=30):
            raise RuntimeError("the fake issuer did not start")
        if self._failure is not None:
            raise RuntimeError("the fake issuer did not start") from self._failure
        return self

    def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        self._loop = self._thread = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self, context: ssl.SSLContext, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self._app(), access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
            loop.run_until_complete(site.start())
            self._port = int(runner.addresses[0][1])
        except BaseException as error:  # reported to start(), which is waiting
            self._failure = error
            started.set()
            loop.close()
            return
        self._loop = loop
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    # -- the HTTP side ------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        run = self._run
        app.router.add_get(f"/{run}/v1/.well-known/openidconfiguration", self._channel_openid)
        app.router.add_get(f"/{run}/v1/.well-known/keys", self._keys)
        app.router.add_get("/common/discovery/instance", self._instance_discovery)
        app.router.add_get("/{tenant}/.well-known/openid-configuration", self._login_openid)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._login_openid)
        app.router.add_get("/{tenant}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/{tenant}/oauth2/token", self._token)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        response: web.StreamResponse = await handler(request)
        return response

    async def _channel_openid(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.token_issuer,
                "jwks_uri": self.jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [public_jwk(self.key, self.kid, self.endorsements)]})

    def _login_configuration(self, tenant: str) -> dict[str, Any]:
        authority = f"{self.base_url}/{tenant}"
        return {
            "issuer": f"{authority}/",
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "jwks_uri": self.jwks_url,
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["client_credentials", "authorization_code"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    async def _login_openid(self, request: web.Request) -> web.Response:
        return web.json_response(self._login_configuration(request.match_info["tenant"]))

    async def _instance_discovery(self, request: web.Request) -> web.Response:
        # Only reached if a client is told to discover here; msal's default goes to Microsoft.
        return web.json_response(
            {
                "tenant_discovery_endpoint": (
                    f"{self.base_url}/{LOGIN_TENANT}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": f"127.0.0.1:{self._port}",
                        "preferred_cache": f"127.0.0.1:{self._port}",
                        "aliases": [f"127.0.0.1:{self._port}"],
                    }
                ],
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        """Signs `self.user` in at once and sends the browser back with a code."""
        query = request.query
        if query.get("client_id") not in self.clients or not self.user:
            return _oauth_error(400, "invalid_request", "unknown client or nobody to sign in")
        code = uuid.uuid4().hex
        self._codes[code] = {
            "client_id": query["client_id"],
            "nonce": query.get("nonce"),
            "redirect_uri": query.get("redirect_uri"),
            "tenant": request.match_info["tenant"],
            "user": dict(self.user),
        }
        target = f"{query['redirect_uri']}?code={code}&state={query.get('state', '')}"
        raise web.HTTPFound(target)

    def _code_token(self, form: Mapping[str, str]) -> web.Response:
        grant = self._codes.pop(form.get("code", ""), None)
        client_id = form.get("client_id", "")
        if grant is None or grant["client_id"] != client_id:
            return _oauth_error(400, "invalid_grant", "AADSTS70008: the code has expired.")
        if form.get("client_secret") != self.clients.get(client_id):
            return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _oauth_error(400, "invalid_grant", "redirect_uri does not match")
        now = int(time.time())
        user = grant["user"]
        issuer = f"{self.base_url}/{grant['tenant']}/"
        id_token = self.sign(
            {
                "iss": issuer,
                "aud": client_id,
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "nonce": grant["nonce"],
                "ver": "2.0",
                **user,
            }
        )
        info = json.dumps({"uid": user.get("oid", ""), "utid": user.get("tid", "")})
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": form.get("scope", ""),
                "expires_in": 3600,
                "access_token": self.sign({"iss": issuer, "aud": "graph", "exp": now + 3600}),
                "id_token": id_token,
                "client_info": base64.urlsafe_b64encode(info.encode()).decode().rstrip("="),
            }
        )

    def webhook_token(
        self, app_id: str, tenant: str, *, lifetime: int = 3600, **overrides: Any
    ) -> str:
        """A bearer token as Entra issues the marketplace for our webhook."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": f"https://sts.windows.net/{tenant}/",
            "aud": app_id,
            "appid": "20e940b3-4c77-4b0b-9a53-9e16a1b010a7",
            "tid": tenant,
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + lifetime,
        }
        claims.update(overrides)
        return self.sign({k: v for k, v in claims.items() if v is not None})

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(TokenRequest(request.path, form))
        if form.get("grant_type") == "authorization_code":
            return self._code_token(form)
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials here")
        client_id = form.get("client_id", "")
        if client_id not in self.clients or form.get("client_secret") != self.clients[client_id]:
            return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
        scope = form.get("scope", "")
        resource = next(
            (s.removesuffix("/.default") for s in scope.split() if s.endswith("/.default")), None
        )
        if resource is None:
            return _oauth_error(400, "invalid_scope", "a client credential scope ends /.default")
        now = int(time.time())
        token = self.sign(
            {
                "iss": f"{self.base_url}/{request.match_info['tenant']}/",
                "aud": resource,
                "appid": client_id,
                "azp": client_id,
                "iat": now,
                "nbf": now,
                "exp": now + self.token_lifetime,
            }
        )
        self.access_tokens.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)
