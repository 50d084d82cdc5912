"""Logging the bot in. The device id, access token and sync position are stored in the
database; the same device on every start keeps the end-to-end keys in the store folder valid."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.matrix.state import MatrixState
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def client_config() -> AsyncClientConfig:
    return AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,  # the sync position lives in our database
        max_limit_exceeded=0,  # a 429 comes back to us: we decide how long to wait
        max_timeouts=2,
        request_timeout=60,
    )


async def open_client(
    settings: Settings, state: MatrixState, store_dir: Path, now: datetime
) -> tuple[AsyncClient, str | None]:
    """A logged-in client with its keys uploaded, and the stored sync position (None at the
    very first start)."""
    homeserver, user_id = settings.matrix_homeserver or "", settings.matrix_user_id or ""
    await asyncio.to_thread(store_dir.mkdir, parents=True, exist_ok=True)
    saved = await state.session(user_id)
    since: str | None = None
    if saved is not None and saved.homeserver == homeserver:
        client = AsyncClient(homeserver, user_id, store_path=str(store_dir), config=client_config())
        client.restore_login(user_id, saved.device_id, saved.access_token)
        try:
            who = await client.whoami()
        except BaseException:
            await client.close()
            raise
        if isinstance(who, WhoamiResponse):
            since = saved.sync_token
        else:
            log.warning("the saved Matrix login no longer works (%s): logging in again", who)
            await client.close()
            client = await _fresh_login(settings, store_dir, saved.device_id)
    else:
        client = await _fresh_login(settings, store_dir, None)
    try:
        assert client.device_id and client.access_token
        await state.save_session(user_id, homeserver, client.device_id, client.access_token, now)
        if client.olm is None:
            raise SettingsError(
                "Matrix end-to-end encryption is not available: install matrix-nio[e2e]"
            )
        if client.should_upload_keys:
            await client.keys_upload()
    except BaseException:
        await client.close()
        raise
    log.info("Matrix: %s on %s, device %s", user_id, homeserver, client.device_id)
    return client, since


async def _fresh_login(settings: Settings, store_dir: Path, device_id: str | None) -> AsyncClient:
    homeserver, user_id = settings.matrix_homeserver or "", settings.matrix_user_id or ""
    client = AsyncClient(
        homeserver, user_id, device_id=device_id, store_path=str(store_dir), config=client_config()
    )
    try:
        if settings.matrix_password:
            resp = await client.login(
                settings.matrix_password, device_name=settings.matrix_device_name
            )
            if not isinstance(resp, LoginResponse):
                raise SettingsError(
                    f"Matrix login as {user_id} on {homeserver} failed: "
                    f"{getattr(resp, 'message', resp)} (check STADTLOTSE_MATRIX_PASSWORD)"
                )
            return client
        token = settings.matrix_access_token or ""
        client.access_token = token
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse) or not who.device_id:
            raise SettingsError(
                f"Setting STADTLOTSE_MATRIX_ACCESS_TOKEN is invalid for {homeserver}: "
                f"{getattr(who, 'message', who)}"
            )
        if who.user_id != user_id:
            raise SettingsError(
                f"Setting STADTLOTSE_MATRIX_USER_ID is {user_id}, "
                f"but the access token belongs to {who.user_id}"
            )
        client.restore_login(user_id, who.device_id, token)
        return client
    except BaseException:
        await client.close()
        raise
