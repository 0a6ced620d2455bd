"""The official Adaptive Cards renderer in headless Chromium, driven over the DevTools
protocol on a pipe (the standard library's asyncio, no HTTP client): no browser download,
Debian's `chromium` is enough.

The renderer (npm `adaptivecards`) and the Microsoft Teams light host config and stylesheet
(npm `adaptivecards-designer`, the designer's Teams container) are installed from the npm
registry into `.cache/adaptivecards` (`install_renderer`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cards.common import Card

ROOT = Path(__file__).resolve().parents[2]
# markdown-it is what the renderer's documentation plugs in for markdown, as Teams renders it.
NPM_PACKAGES = ("adaptivecards@3.0.6", "adaptivecards-designer@2.4.4", "markdown-it@14.1.0")
NPM_DIR = Path(os.environ.get("ADAPTIVECARDS_NPM_DIR", ROOT / ".cache" / "adaptivecards"))
RENDERER_JS = "node_modules/adaptivecards/dist/adaptivecards.min.js"
HOST_CONFIG = "node_modules/adaptivecards-designer/lib/hostConfigs/microsoft-teams-light.json"
TEAMS_CSS = "node_modules/adaptivecards-designer/dist/containers/teams-container-light.css"
MARKDOWN_JS = "node_modules/markdown-it/dist/markdown-it.min.js"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Teams mobile, and a card in a chat.
WIDTHS = (360, 540)


class RendererMissing(RuntimeError):
    """Chromium or the npm packages are not installed: the message says what to install."""


@dataclass(frozen=True)
class Rendering:
    png: bytes
    errors: tuple[str, ...]
    cut: tuple[str, ...]
    titles: int

    @property
    def problems(self) -> tuple[str, ...]:
        return self.errors + self.cut


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or next(
        (p for p in map(shutil.which, CHROMIUM_NAMES) if p), None
    )
    if not found:
        raise RendererMissing("chromium is not installed (apt-get install -y chromium)")
    return found


def assets(npm_dir: Path = NPM_DIR) -> tuple[Path, Path, Path, Path]:
    paths = tuple(npm_dir / rel for rel in (RENDERER_JS, HOST_CONFIG, TEAMS_CSS, MARKDOWN_JS))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise RendererMissing(
            f"the renderer is not installed ({', '.join(missing)}); run: npm install "
            f"--legacy-peer-deps --prefix {npm_dir} {' '.join(NPM_PACKAGES)}"
        )
    return paths[0], paths[1], paths[2], paths[3]


def install_renderer(npm_dir: Path = NPM_DIR) -> None:
    """npm-install the renderer and the Teams host config, unless they are there."""
    try:
        assets(npm_dir)
        return
    except RendererMissing:
        pass
    npm = shutil.which("npm")
    if npm is None:
        raise RendererMissing("npm is not installed: cannot install the Adaptive Cards renderer")
    # The designer's peer dependencies (an editor) are not needed for its host configs.
    command = [npm, "install", "--silent", "--no-audit", "--no-fund", "--legacy-peer-deps"]
    done = subprocess.run(
        [*command, "--prefix", str(npm_dir), *NPM_PACKAGES],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RendererMissing(f"npm install failed: {done.stderr.strip()[-500:]}")
    assets(npm_dir)


def _page(npm_dir: Path) -> str:
    renderer, host_config, css, markdown = assets(npm_dir)
    script = (Path(__file__).with_name("page.js")).read_text(encoding="utf-8")
    return f"""<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css.as_uri()}">
<style>
  body {{ margin: 0; background: #F5F5F5; font-family: 'Segoe UI', sans-serif; }}
  #frame {{ display: inline-block; padding: 8px; background: #F5F5F5; }}
  #host {{ background: #FFFFFF; border: 1px solid #E1DFDD; border-radius: 4px; }}
</style>
<script src="{renderer.as_uri()}"></script>
<script src="{markdown.as_uri()}"></script>
<script>window.HOST_CONFIG = {host_config.read_text(encoding="utf-8")};</script>
<script>{script}</script>
</head><body><div id="frame"><div id="host" class="teams-card"></div></div></body></html>"""


class DevTools:
    """One page of a headless Chromium, over the DevTools protocol on the pipe that
    `--remote-debugging-pipe` opens: Chromium reads commands on its descriptor 3 and writes
    answers and events on 4, each message JSON ended by a NUL byte."""

    def __init__(
        self, commands: asyncio.WriteTransport, answers: asyncio.StreamReader, session: str
    ) -> None:
        self._commands = commands
        self._answers = answers
        self._session = session
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def attach(
        cls, commands: asyncio.WriteTransport, answers: asyncio.StreamReader
    ) -> DevTools:
        browser = cls(commands, answers, "")
        target = await browser.call("Target.createTarget", url="about:blank")
        attached = await browser.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        browser._session = attached["sessionId"]
        return browser

    async def _read(self) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                data = json.loads((await self._answers.readuntil(b"\0"))[:-1])
                waiting = self._waiting.pop(data.get("id", -1), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(data)
        for waiting in self._waiting.values():
            waiting.set_exception(ConnectionError("chromium closed the DevTools pipe"))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if self._session:
            message["sessionId"] = self._session
        self._send(message)
        answer = await asyncio.wait_for(future, timeout=60)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or str(details))
        return result["result"].get("value")

    def close(self) -> None:
        """Ask the browser to close (it ends its other processes and lets go of its profile),
        without waiting for its answer, and stop reading."""
        self._send({"id": next(self._ids), "method": "Browser.close", "params": {}})
        self._reader.cancel()

    def _send(self, message: dict[str, Any]) -> None:
        self._commands.write(json.dumps(message).encode() + b"\0")


class Renderer:
    """`async with Renderer.start() as renderer: await renderer.render(card, 360)`."""

    def __init__(self, page: DevTools) -> None:
        self._page = page

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, npm_dir: Path = NPM_DIR) -> AsyncIterator[Renderer]:
        html = _page(npm_dir)
        with tempfile.TemporaryDirectory(prefix="card-gallery-") as scratch:
            page_file = Path(scratch) / "gallery.html"
            page_file.write_text(html, encoding="utf-8")
            async with chromium_page("--allow-file-access-from-files") as page:
                await page.call("Page.navigate", url=page_file.as_uri())
                for _ in range(200):
                    ready = await page.evaluate(
                        "typeof window.renderCard === 'function' && "
                        "typeof AdaptiveCards === 'object'"
                    )
                    if ready:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise RendererMissing("the renderer page did not load")
                yield cls(page)

    async def render(self, card: Card, width: int) -> Rendering:
        page = self._page
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width + 16,
            height=600,
            deviceScaleFactor=1,
            mobile=False,
        )
        report = await page.evaluate(f"renderCard({json.dumps(card)}, {width})")
        box = await page.evaluate("cardBox()")
        shot = await page.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={**box, "scale": 1},
        )
        return Rendering(
            base64.b64decode(shot["data"]),
            tuple(report["errors"]),
            tuple(report["cut"]),
            int(report["titles"]),
        )


@contextlib.asynccontextmanager
async def chromium_page(*arguments: str) -> AsyncIterator[DevTools]:
    """A headless Chromium with one blank page (Page and Runtime enabled), over DevTools."""
    loop = asyncio.get_running_loop()
    chromium_reads, we_write = os.pipe()
    we_read, chromium_writes = os.pipe()
    answers = asyncio.StreamReader(limit=1 << 30)  # a screenshot is one message
    with (
        open(we_write, "wb", buffering=0) as commands_end,
        open(we_read, "rb", buffering=0) as answers_end,
        tempfile.TemporaryDirectory(prefix="chromium-") as scratch,
    ):
        try:
            # Chromium takes the pipe as its descriptors 3 and 4: it is given as the shell's
            # standard input and output, which the shell moves there.
            process = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null',
                chromium_path(),
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={Path(scratch) / 'profile'}",
                *arguments,
                "about:blank",
                stdin=chromium_reads,
                stdout=chromium_writes,
                stderr=asyncio.subprocess.DEVNULL,
            )
        finally:
            os.close(chromium_reads)
            os.close(chromium_writes)
        try:
            commands, _ = await loop.connect_write_pipe(asyncio.BaseProtocol, commands_end)
            reading, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(answers), answers_end
            )
            try:
                page = await DevTools.attach(commands, answers)
                try:
                    await page.call("Page.enable")
                    await page.call("Runtime.enable")
                    yield page
                finally:
                    page.close()
            finally:
                commands.close()
                reading.close()
        finally:
            # Killed only if it did not close: its other processes would still be writing to
            # the profile that the temporary directory is about to remove.
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()
