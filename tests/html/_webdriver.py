"""A minimal W3C WebDriver client over the standard library, for headless Chromium.

It starts ``chromedriver`` on a free 127.0.0.1 port, opens one session with a
fresh profile and speaks the JSON wire protocol with ``http.client``: just the
commands the HTML graph tests need.
"""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier key

CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,900",
]


class WebDriverError(RuntimeError):
    """A WebDriver command answered with an error (``error`` is the W3C error code)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


class Browser:
    """One chromedriver process and one Chromium session."""

    def __init__(self, chromium: str, chromedriver: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="chutes-build-chromium-")
        self.port = free_port()
        self._driver = subprocess.Popen(
            [chromedriver, f"--port={self.port}", f"--log-path={self._tmp.name}/driver.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.session = ""
        try:
            self._wait_ready()
            args = [*CHROME_ARGS, f"--user-data-dir={self._tmp.name}/profile"]
            options = {"binary": chromium, "args": args}
            caps = {"browserName": "chrome", "goog:chromeOptions": options}
            answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
            self.session = answer["sessionId"]
        except BaseException:
            self.close()
            raise

    # -- transport
    def _call(self, method: str, path: str, body: Any = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json"} if payload else {}
            conn.request(method, path, body=payload, headers=headers)
            answer = json.loads(conn.getresponse().read() or b"{}")
        finally:
            conn.close()
        value = answer.get("value")
        if isinstance(value, dict) and "error" in value:
            raise WebDriverError(value["error"], value.get("message", "").splitlines()[0])
        return value

    def _wait_ready(self) -> None:
        for _ in range(200):
            if self._driver.poll() is not None:
                raise RuntimeError(f"chromedriver exited with status {self._driver.returncode}")
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("chromedriver did not become ready")

    def _s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    # -- commands
    def get(self, url: str) -> None:
        self._call("POST", self._s("/url"), {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """Run ``script`` as a function body in the page and return its result."""
        return self._call("POST", self._s("/execute/sync"), {"script": script, "args": list(args)})

    def find_all(self, css: str) -> list[str]:
        found = self._call("POST", self._s("/elements"), {"using": "css selector", "value": css})
        return [item[ELEMENT] for item in found]

    def find(self, css: str) -> str:
        found = self.find_all(css)
        if not found:
            raise WebDriverError("no such element", css)
        return found[0]

    def click(self, element: str) -> None:
        self._call("POST", self._s(f"/element/{element}/click"), {})

    def type(self, element: str, text: str) -> None:
        self._call("POST", self._s(f"/element/{element}/value"), {"text": text})

    def clear(self, element: str) -> None:
        self._call("POST", self._s(f"/element/{element}/clear"), {})

    def perform(self, *sources: dict) -> None:
        """Run W3C input action sources (pointer, wheel) and release them."""
        self._call("POST", self._s("/actions"), {"actions": list(sources)})
        self._call("DELETE", self._s("/actions"))

    def set_window(self, width: int, height: int) -> None:
        self._call("POST", self._s("/window/rect"), {"width": width, "height": height})

    def title(self) -> str:
        return self._call("GET", self._s("/title"))

    def alert_text(self) -> str | None:
        """The text of an open alert, or None when no alert is open."""
        try:
            return self._call("GET", self._s("/alert/text"))
        except WebDriverError as exc:
            if exc.error == "no such alert":
                return None
            raise

    def screenshot(self, path: Path) -> None:
        data = self._call("GET", self._s("/screenshot"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if self.session:
                self._call("DELETE", self._s(""))
        except (OSError, WebDriverError):
            pass
        finally:
            self._driver.terminate()
            try:
                self._driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
                self._driver.wait()
            self._tmp.cleanup()


def find_browser() -> tuple[str, str] | None:
    """Paths of chromium and chromedriver, or None when either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        return None
    return chromium, driver
