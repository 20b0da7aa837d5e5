"""Where Debian's Chromium is, and the flags it runs with in the browser tests.

Without the background-networking flags Chromium's own connections are refused by
this machine's closed network, many at a time; a fresh profile per run keeps tests
apart.
"""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
