"""A real Synapse homeserver on loopback, for end-to-end tests with matrix-nio.

Usage::

    with SynapseServer(tmp_path) as hs:
        bot_id, bot_token = hs.register_user("bot", "bot-pw")
        client = nio.AsyncClient(hs.base_url, bot_id)

What this module does
---------------------
* Writes ``homeserver.yaml`` (as JSON, which is valid YAML) into the work
  directory: server_name ``localhost``, one plain-HTTP listener on
  ``127.0.0.1:<port>`` serving only the ``client`` resource (the admin API
  ``/_synapse/admin`` rides on it), SQLite database, media store, log file
  (WARNING) all inside the work directory, registration closed, a
  ``registration_shared_secret`` for the admin registration API, no stats,
  no trusted key servers, no URL previews, no presence, no metrics, every
  ``rc_*`` rate limit raised to "effectively unlimited".  Nothing in that
  config makes Synapse talk to any outside server.
* Writes the ed25519 signing key itself (32 random bytes, unpadded base64, in
  Synapse's ``ed25519 <key id> <seed>`` format), so no extra
  ``--generate-keys`` process run is needed.
* Starts ``<python> -m synapse.app.homeserver -c homeserver.yaml`` and polls
  ``GET /_matrix/client/versions`` until it answers (cap: ``startup_timeout``,
  60 s by default).  If Synapse dies or does not answer, ``SynapseStartError``
  carries the tail of its console output and log file.
* Startup takes ~1.5-2 s on the 2-core machine (``startup_seconds`` holds
  the measurement); ~1.5 s of it is Python importing Synapse, the rest is
  laying out the SQLite schema.  ``bcrypt_rounds: 4`` makes registration and
  password login take milliseconds instead of ~0.25 s each.

End-to-end encryption with matrix-nio 0.26 (vodozemac) against this server
--------------------------------------------------------------------------
The sequence that ``tests/support/test_synapse.py`` runs (all verified there
or in throw-away experiments against this server):

1. Each side: ``AsyncClient(hs.base_url, user_id, store_path=<dir>,
   config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True))``.
   The store directory must exist (nio does not create it).  Then either
   ``await client.login(password, device_name=...)`` (creates a new device and
   loads the Olm store; ``client.olm`` is set from then on), or - what a
   long-running bot should do - ``client.restore_login(user_id, device_id,
   access_token)`` with a device id that stays the same across restarts
   (``SynapseServer.register()`` returns one).  With the same store path a
   restarted client reuses its Olm account and sync token: no key re-upload,
   no replay of old events, and partners keep trusting the device.
2. ``if client.should_upload_keys: await client.keys_upload()`` right after
   login/restore, *before* anyone sends to this device.  A device without
   uploaded keys is invisible to senders: they share the room key with nobody
   and the first message arrives as an undecryptable ``MegolmEvent``
   (verified).  Later messages work again once the keys are uploaded.
3. Sync loop.  After every ``await client.sync(timeout=<ms>)`` do what
   ``sync_forever`` does internally::

       if client.should_upload_keys: await client.keys_upload()
       if client.should_query_keys:  await client.keys_query()
       if client.should_claim_keys:
           await client.keys_claim(client.get_users_for_key_claiming())

   (``sync_forever`` does exactly this; a hand-written loop must do it too,
   else one-time keys are not replenished and device lists of new room
   members are not fetched.)
4. The resident creates the room: ``room_create(is_direct=True,
   invite=[bot_id], initial_state=[{"type": "m.room.encryption",
   "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])``.
   The bot joins from its ``InviteMemberEvent`` callback
   (``await client.join(room.room_id)``; nio never auto-joins).
5. Trust.  Either mark the partner's devices verified -
   ``for d in client.device_store.active_user_devices(other_id):
   client.verify_device(d)`` (they are there after a ``keys_query`` that
   followed the partner's join; the test does this) - or send with
   ``room_send(..., ignore_unverified_devices=True)``.  With neither, the first
   encrypted ``room_send`` raises ``OlmUnverifiedDeviceError`` (verified).
6. ``await client.room_send(room_id, "m.room.message", content)``.
   ``room_send`` itself calls ``joined_members`` + ``keys_query`` when the
   member list was never fetched, claims one-time keys (``keys_claim``) for
   devices without an Olm session and shares the megolm session via to-device
   ``m.room.encrypted`` (``share_group_session``).  So sending works even
   before the sender has synced the partner's join, and even while the
   partner is only invited (nio shares with invited members' devices) - as
   long as the partner's device had uploaded its keys (step 2).
7. The receiver's next ``sync`` carries the to-device room key and the
   ``m.room.encrypted`` timeline event; nio handles to-device events first,
   so the callback gets the event already decrypted as ``RoomMessageText``
   (``event.decrypted is True``, ``room.encrypted is True``).  The reply goes
   the same way: the bot's ``room_send`` shares the bot's own outbound megolm
   session with the resident's devices.
8. Undecryptable events arrive as ``MegolmEvent`` (register a callback for
   it and log; ``await client.request_room_key(event)`` may recover).
9. Own messages come back through sync, too: filter ``event.sender ==
   client.user_id`` in callbacks.

Other pitfalls
--------------
* nio retries HTTP 429 forever by default (``max_limit_exceeded=None``): set
  ``AsyncClientConfig(max_limit_exceeded=..., max_timeouts=...)``.  The
  rate limits here are raised so tests never see 429.
* Media: ``client.upload(lambda *_: data, content_type="image/png",
  filename=..., filesize=len(data))`` returns ``(UploadResponse, None)``;
  ``client.download(mxc=content_uri)`` uses the authenticated
  ``/_matrix/client/v1/media/download`` endpoint with the access token.
  Synapse 1.163 refuses new media on the legacy unauthenticated
  ``/_matrix/media/v3/download`` (404), so clients must use the former.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "RegisteredUser",
    "SynapseError",
    "SynapseServer",
    "SynapseStartError",
    "free_port",
    "synapse_available",
]

# "Effectively unlimited" for every rate limiter that Synapse 1.163 reads
# (synapse/config/ratelimiting.py).
_UNLIMITED: dict[str, float] = {"per_second": 100_000.0, "burst_count": 100_000}


class SynapseError(RuntimeError):
    """An HTTP call to the homeserver failed."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class SynapseStartError(RuntimeError):
    """Synapse did not come up; the message carries the tail of its logs."""


@dataclass(frozen=True)
class RegisteredUser:
    user_id: str
    access_token: str
    device_id: str
    password: str


def synapse_available() -> bool:
    """True when ``synapse`` is importable by this interpreter."""
    import importlib.util

    return importlib.util.find_spec("synapse") is not None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _rate_limits() -> dict[str, Any]:
    u = dict(_UNLIMITED)
    return {
        "rc_message": u,
        "rc_registration": u,
        "rc_registration_token_validity": u,
        "rc_login": {"address": u, "account": u, "failed_attempts": u},
        "rc_admin_redaction": u,
        "rc_joins": {"local": u, "remote": u},
        "rc_joins_per_room": u,
        "rc_key_requests": u,
        "rc_3pid_validation": u,
        "rc_invites": {"per_room": u, "per_user": u, "per_issuer": u},
        "rc_third_party_invite": u,
        "rc_media_create": u,
        "rc_presence": {"per_user": u},
        "rc_delayed_event_mgmt": u,
        "rc_room_creation": u,
        "rc_reports": u,
        "rc_user_directory": u,
        "rc_profile": u,
        "rc_federation": {
            "window_size": 1000,
            "sleep_limit": 100_000,
            "sleep_delay": 0,
            "reject_limit": 100_000,
            "concurrent": 100,
        },
    }


def _tail(path: Path, max_bytes: int = 6000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return "(missing)"
    return data[-max_bytes:].decode("utf-8", "replace")


class SynapseServer:
    """One Synapse process serving ``http://127.0.0.1:<port>``.

    ``start()``/``stop()`` are synchronous; the object is a context manager.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        port: int | None = None,
        *,
        server_name: str = "localhost",
        python: str | None = None,
        startup_timeout: float = 60.0,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.port = port if port is not None else free_port()
        self._server_name = server_name
        self._python = python or sys.executable
        self.startup_timeout = startup_timeout
        self._extra_config = dict(extra_config or {})
        self.shared_secret = secrets.token_hex(32)
        self._proc: subprocess.Popen[bytes] | None = None
        self._console: Any = None
        self._admin: RegisteredUser | None = None
        self.startup_seconds: float | None = None

    # -- properties -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        return self._server_name

    @property
    def config_path(self) -> Path:
        return self.workdir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "homeserver.log"

    @property
    def console_path(self) -> Path:
        return self.workdir / "console.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self._server_name}"

    # -- config -----------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        w = self.workdir
        cfg: dict[str, Any] = {
            "server_name": self._server_name,
            "public_baseurl": self.base_url + "/",
            "pid_file": str(w / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(w / "homeserver.db")},
            },
            "log_config": str(w / "log.config"),
            "media_store_path": str(w / "media_store"),
            "signing_key_path": str(w / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(32),
            "form_secret": secrets.token_hex(32),
            "enable_registration": False,
            # Password hashing at the minimum cost: registration and login in ms.
            "bcrypt_rounds": 4,
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "enable_metrics": False,
            "include_profile_data_on_invite": True,
            # The user directory search is not needed and costs background work.
            "user_directory": {"enabled": False},
        }
        cfg.update(_rate_limits())
        cfg.update(self._extra_config)
        return cfg

    def _log_config(self) -> dict[str, Any]:
        return {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s"
                    " - %(request)s - %(message)s"
                }
            },
            "filters": {
                "context": {
                    "()": "synapse.logging.context.LoggingContextFilter",
                    "request": "",
                }
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "filters": ["context"],
                    "encoding": "utf8",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }

    def write_config(self) -> Path:
        """Write homeserver.yaml, log.config and the signing key; return the config path."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "media_store").mkdir(exist_ok=True)
        key_path = self.workdir / "signing.key"
        if not key_path.exists():
            seed = base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")
            key_id = "a_" + secrets.token_hex(2)
            key_path.write_text(f"ed25519 {key_id} {seed}\n", encoding="ascii")
        # JSON is valid YAML; Synapse parses it with yaml.safe_load.
        (self.workdir / "log.config").write_text(
            json.dumps(self._log_config(), indent=2), encoding="utf-8"
        )
        self.config_path.write_text(json.dumps(self._config(), indent=2), encoding="utf-8")
        return self.config_path

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> SynapseServer:
        if self.running:
            return self
        if not _port_is_free(self.port):
            # Polling would otherwise find whatever already answers there.
            raise SynapseStartError(f"127.0.0.1:{self.port} is already in use")
        self.write_config()
        env = dict(os.environ)
        self._console = self.console_path.open("ab")
        started = time.monotonic()
        self._proc = subprocess.Popen(
            [self._python, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=str(self.workdir),
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_ready(self, started: float) -> None:
        deadline = started + self.startup_timeout
        url = self.base_url + "/_matrix/client/versions"
        assert self._proc is not None
        while True:
            code = self._proc.poll()
            if code is not None:
                raise SynapseStartError(
                    f"Synapse exited with code {code} during startup\n" + self._logs_tail()
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200 and self._proc.poll() is None:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SynapseStartError(
                    f"Synapse did not answer {url} within {self.startup_timeout:.0f}s\n"
                    + self._logs_tail()
                )
            # Waiting for another process to open its port.
            time.sleep(0.05)

    def _logs_tail(self) -> str:
        return (
            f"--- console ({self.console_path}) ---\n{_tail(self.console_path)}\n"
            f"--- log ({self.log_path}) ---\n{_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        if self._console is not None:
            self._console.close()
            self._console = None
        self._admin = None

    def __enter__(self) -> SynapseServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- HTTP -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        access_token: str | None = None,
        timeout: float = 30.0,
    ) -> Any:
        """JSON request against the homeserver; raises ``SynapseError`` on non-2xx."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if access_token:
            req.add_header("Authorization", f"Bearer {access_token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise SynapseError(
                f"{method} {path} -> HTTP {err.code}: {parsed}", status=err.code, body=parsed
            ) from None
        return json.loads(raw) if raw else {}

    # -- users ------------------------------------------------------------------

    def register(
        self,
        localpart: str,
        password: str,
        admin: bool = False,
        displayname: str | None = None,
    ) -> RegisteredUser:
        """Register via the shared-secret admin API (``/_synapse/admin/v1/register``)."""
        path = "/_synapse/admin/v1/register"
        nonce = str(self.request("GET", path)["nonce"])
        mac = hmac.new(self.shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
        mac.update(nonce.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(localpart.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(password.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if displayname is not None:
            body["displayname"] = displayname
        res = self.request("POST", path, body)
        return RegisteredUser(
            user_id=str(res["user_id"]),
            access_token=str(res["access_token"]),
            device_id=str(res.get("device_id", "")),
            password=password,
        )

    def register_user(self, localpart: str, password: str, admin: bool = False) -> tuple[str, str]:
        """Register a user; return ``(user_id, access_token)``."""
        user = self.register(localpart, password, admin=admin)
        return user.user_id, user.access_token

    def admin_token(self) -> str:
        """Access token of a lazily registered server admin (``@stadtlotse-admin``)."""
        if self._admin is None:
            self._admin = self.register(
                "stadtlotse-admin-" + secrets.token_hex(3), secrets.token_hex(16), admin=True
            )
        return self._admin.access_token

    def override_ratelimit(
        self, user_id: str, messages_per_second: int = 0, burst_count: int = 0
    ) -> dict[str, Any]:
        """Per-user rate-limit override; 0/0 disables rate limiting for that user."""
        path = "/_synapse/admin/v1/users/{}/override_ratelimit".format(
            urllib.parse.quote(user_id, safe="")
        )
        res = self.request(
            "POST",
            path,
            {"messages_per_second": messages_per_second, "burst_count": burst_count},
            access_token=self.admin_token(),
        )
        return dict(res)

    def login(self, localpart_or_id: str, password: str, device_id: str | None = None) -> str:
        """Password login; return a fresh access token."""
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart_or_id},
            "password": password,
        }
        if device_id:
            body["device_id"] = device_id
        return str(self.request("POST", "/_matrix/client/v3/login", body)["access_token"])
