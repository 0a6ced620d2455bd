"""The bot as its own operating-system process (`python -m bot`), for tests that need several
real processes sharing one database."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[2]
# Variables of the parent environment that would change how the child authenticates or which
# database and catalog it uses; the test sets what it needs explicitly.
_DROPPED = (
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppType",
    "MicrosoftAppTenantId",
    "BOT_OPENID_METADATA_URL",
    "BOT_TOKEN_ISSUER",
    "BOT_LOGIN_URL",
    "PLANS_FILE",
    "DATABASE_URL",
    "PORT",
    "HOST",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    database_url: str
    log_file: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, log_level: str = "WARNING") -> None:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
        env.update(
            DATABASE_URL=self.database_url,
            PORT=str(self.port),
            HOST="127.0.0.1",
            LOG_LEVEL=log_level,
            PYTHONUNBUFFERED="1",
        )
        self._log = self.log_file.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll /healthz until it answers 200; fail early, with the log, if the process dies."""
        assert self.process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while loop.time() < deadline:
                if self.process.returncode is not None:
                    raise AssertionError(
                        f"bot on port {self.port} exited with {self.process.returncode}:\n"
                        + self.log()
                    )
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"bot on port {self.port} not ready in {timeout} s:\n" + self.log())

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
