"""`python -m bot` refuses to start on a bad configuration, saying what to fix; once started, it
settles the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.__main__ import YOUNG_THRESHOLD, settle_collector
from tests.support.bot_process import BotProcess

ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "PORT": "1",  # never reached: the bot must stop before it serves
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_plan_catalog_stops_the_bot_naming_plan_and_field(tmp_path: Path) -> None:
    catalog = json.loads((ROOT / "bot/domain/default_plans.json").read_text())
    premium = next(p for p in catalog["plans"] if p["id"] == "premium")
    premium["price"] = "forty-nine"
    bad = tmp_path / "plans.json"
    bad.write_text(json.dumps(catalog))

    result = run_bot(tmp_path, PLANS_FILE=str(bad))

    assert result.returncode == 2
    assert "plan 'premium'" in result.stderr
    assert "field 'price'" in result.stderr


def test_bad_warning_thresholds_stop_the_bot(tmp_path: Path) -> None:
    result = run_bot(tmp_path, QUOTA_WARNING_THRESHOLDS="80,ninety")

    assert result.returncode == 2
    assert "QUOTA_WARNING_THRESHOLDS" in result.stderr


@pytest.mark.parametrize("hour", ["24", "-1", "seven", "٧"])
def test_a_bad_reminder_hour_stops_the_bot(tmp_path: Path, hour: str) -> None:
    result = run_bot(tmp_path, REMINDER_HOUR_UTC=hour)

    assert result.returncode == 2
    assert "REMINDER_HOUR_UTC" in result.stderr


@pytest.mark.parametrize("connections", ["0", "eight"])
def test_a_bad_number_of_database_connections_stops_the_bot(
    tmp_path: Path, connections: str
) -> None:
    result = run_bot(tmp_path, DATABASE_CONNECTIONS=connections)

    assert result.returncode == 2
    assert "DATABASE_CONNECTIONS" in result.stderr


def test_migrate_applies_the_migrations_and_exits(tmp_path: Path) -> None:
    result = run_bot_migrate(tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bot.db").exists()
    assert "0003" in result.stderr


def run_bot_migrate(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_serving_is_announced_after_the_migrations_once_the_port_is_open(
    tmp_path: Path,
) -> None:
    bot = BotProcess(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", tmp_path / "bot.log")
    await bot.start(log_level="INFO")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while "serving on" not in bot.log():
            assert bot.process is not None and bot.process.returncode is None, bot.log()
            assert loop.time() < deadline, bot.log()
            await asyncio.sleep(0.02)
        # The moment the line is there, the port answers.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{bot.url}/healthz") as response,
        ):
            assert response.status == 200
        lines = bot.log().splitlines()
        serving = next(i for i, line in enumerate(lines) if "serving on" in line)
        migrated = next(i for i, line in enumerate(lines) if "Running upgrade" in line)
        started = next(i for i, line in enumerate(lines) if "MicrosoftAppId is not set" in line)
        assert migrated < started < serving
    finally:
        await bot.stop()
    assert bot.process.returncode == 0, bot.log()


def test_once_started_the_collector_leaves_start_up_alone_and_young_passes_are_rarer() -> None:
    before = gc.get_threshold()
    try:
        settle_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
        assert before[0] < YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
