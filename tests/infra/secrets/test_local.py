"""What only the local store has: its key, its file, and what it does when either is wrong."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from virtuoso_api.config import Environment, Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.secrets import SecretAlreadyExists, SecretUnreadable, build_secrets, check_secrets
from virtuoso_api.infra.secrets.local import LocalSecretStore
from virtuoso_api.infra.secrets.local_key import KeySource
from virtuoso_api.kit.clock import ManualClock

PLAIN = b"plain-text-that-must-not-be-in-the-file-4c1e"


def settings_for(tmp_path: Path, key: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_dir=tmp_path / "data",
        secrets_encryption_key=None if key is None else SecretStr(key),
    )


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def put(settings: Settings, secret_id: str, data: bytes) -> None:
    async with build_secrets(settings, clock=ManualClock()) as store:
        with contextlib.suppress(SecretAlreadyExists):
            await store.create(secret_id, labels={})
        await store.add_version(secret_id, data)


async def test_the_key_file_is_made_0600_on_the_first_write_only(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    key_file = settings.data_dir / "secrets.key"
    async with build_secrets(settings, clock=ManualClock()) as store:
        with pytest.raises(Exception, match="does not exist"):
            await store.access("absent")
        assert not key_file.exists()  # reading an empty store needs no key
        await store.create("s", labels={})
        await store.add_version("s", PLAIN)
    assert mode(key_file) == 0o600
    assert mode(settings.data_dir / "secrets.json") == 0o600
    assert mode(settings.data_dir) == 0o700
    assert len(base64.urlsafe_b64decode(key_file.read_text().strip())) == 32
    assert PLAIN not in (settings.data_dir / "secrets.json").read_bytes()
    async with build_secrets(settings, clock=ManualClock()) as again:
        assert (await again.access("s")).data == PLAIN


async def test_the_key_setting_is_used_and_no_key_file_is_made(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, new_key())
    await put(settings, "s", PLAIN)
    assert not (settings.data_dir / "secrets.key").exists()
    async with build_secrets(settings, clock=ManualClock()) as store:
        assert (await store.access("s")).data == PLAIN


async def test_a_wrong_key_stops_start_up_with_one_line(tmp_path: Path) -> None:
    await put(settings_for(tmp_path, new_key()), "s", PLAIN)
    wrong = settings_for(tmp_path, new_key())
    with pytest.raises(SecretUnreadable) as caught:
        async with build_secrets(wrong, clock=ManualClock()):
            pass
    message = caught.value.message
    assert message == (
        f"{wrong.data_dir / 'secrets.json'} was encrypted with another key than SECRETS_ENCRYPTION_KEY: "
        "set SECRETS_ENCRYPTION_KEY to the key it was made with"
    )
    assert isinstance(caught.value, Misconfigured)
    assert wrong.secrets_encryption_key is not None
    assert wrong.secrets_encryption_key.get_secret_value() not in message


async def test_a_key_file_that_does_not_fit_is_refused_and_kept(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    await put(settings, "s", PLAIN)
    key_file = settings.data_dir / "secrets.key"
    key_file.write_text(new_key() + "\n")
    with pytest.raises(SecretUnreadable, match=r"another key than .*secrets\.key"):
        check_secrets(settings, clock=ManualClock())
    key_file.unlink()
    with pytest.raises(
        SecretUnreadable, match=r"holds secrets but its key is missing: restore .*secrets\.key"
    ):
        check_secrets(settings, clock=ManualClock())
    assert not key_file.exists()  # never a new key beside secrets it could not read
    key_file.write_text("not a key\n")
    with pytest.raises(Misconfigured, match=r"secrets\.key must be 32 bytes in URL-safe base64"):
        check_secrets(settings, clock=ManualClock())


async def test_an_altered_file_is_refused_never_read_as_garbage(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, new_key())
    await put(settings, "a", b"secret of a")
    await put(settings, "a", b"second of a")
    await put(settings, "b", b"secret of b")
    path = settings.data_dir / "secrets.json"
    original = json.loads(path.read_text())

    def altered(change: object) -> None:
        data = json.loads(json.dumps(original))
        change(data)  # type: ignore[operator]
        path.write_text(json.dumps(data))

    def flip_a_byte(data: dict) -> None:  # type: ignore[type-arg]
        sealed = bytearray(base64.b64decode(data["secrets"]["a"]["versions"][0]["data"]))
        sealed[-1] ^= 1
        data["secrets"]["a"]["versions"][0]["data"] = base64.b64encode(bytes(sealed)).decode()

    def move_b_into_a(data: dict) -> None:  # type: ignore[type-arg]
        data["secrets"]["a"]["versions"][0]["data"] = data["secrets"]["b"]["versions"][0]["data"]

    def swap_versions(data: dict) -> None:  # type: ignore[type-arg]
        first, second = data["secrets"]["a"]["versions"]
        first["data"], second["data"] = second["data"], first["data"]

    for change in (flip_a_byte, move_b_into_a, swap_versions):
        altered(change)
        async with build_secrets(settings, clock=ManualClock()) as store:
            with pytest.raises(SecretUnreadable, match="failed its integrity check: the file was altered"):
                await store.access("a", 1)
    path.write_text("{not json")
    with pytest.raises(SecretUnreadable, match="is not a secrets file"):
        check_secrets(settings, clock=ManualClock())


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from virtuoso_api.infra.secrets.local import LocalSecretStore
    from virtuoso_api.infra.secrets.local_key import KeySource
    from virtuoso_api.kit.clock import SystemClock

    async def main() -> None:
        data = Path(sys.argv[1])
        key = KeySource(data / "secrets.key")
        store = LocalSecretStore(data / "secrets.json", key=key, clock=SystemClock())
        for i in range(15):
            await store.add_version("shared", f"{sys.argv[2]}-{i}".encode())

    asyncio.run(main())
    """
)


async def test_two_processes_adding_versions_at_once_lose_none(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    key = KeySource(settings.data_dir / "secrets.key")
    store = LocalSecretStore(settings.data_dir / "secrets.json", key=key, clock=ManualClock())
    await store.create("shared", labels={})
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(settings.data_dir), name]) for name in ("a", "b")
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    versions = await store.versions("shared")
    assert [v.number for v in versions] == list(range(30, 0, -1))
    datas = {(await store.access("shared", v.number)).data for v in versions}
    assert datas == {f"{name}-{i}".encode() for name in ("a", "b") for i in range(15)}


async def test_a_writer_killed_mid_write_leaves_a_file_that_opens(tmp_path: Path) -> None:
    """kill -9 while versions are being written: the file is the one before a write or after it."""
    settings = settings_for(tmp_path)
    key = KeySource(settings.data_dir / "secrets.key")
    store = LocalSecretStore(settings.data_dir / "secrets.json", key=key, clock=ManualClock())
    await store.create("shared", labels={})
    await store.add_version("shared", b"first")
    endless = WRITER.replace("range(15)", "range(10**9)")
    writer = subprocess.Popen([sys.executable, "-c", endless, str(settings.data_dir), "w"])
    try:
        while len(await store.versions("shared")) < 20:  # it is writing, over and over
            await asyncio.sleep(0.01)
    finally:
        writer.kill()  # SIGKILL: no cleanup of any kind
        writer.wait(timeout=10)
    reopened = LocalSecretStore(settings.data_dir / "secrets.json", key=key, clock=ManualClock())
    reopened.open()
    versions = await reopened.versions("shared")
    assert [v.number for v in versions] == list(range(len(versions), 0, -1))
    for version in versions:  # every version it kept opens
        await reopened.access("shared", version.number)
    await reopened.add_version("shared", b"after")  # and the next writer goes on, tidying up
    assert list(settings.data_dir.glob(".secrets.json.*.tmp")) == []
