"""A loopback SMTP sink: every message it accepts becomes one file in --dir.

`python -m bench.topology.mailsink --port 2525 --dir /tmp/mail` runs until SIGTERM/SIGINT. The scale
demo and the fault runs count emails by counting files, so a duplicate mail is visible.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class FileHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
            name = f"{time.time_ns()}-{self.count:06d}.eml"
        partial = self.directory / f".{name}"
        partial.write_bytes(envelope.content)
        partial.rename(self.directory / name)  # readers never see half a message
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.topology.mailsink", description=__doc__.split("\n")[0]
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--dir", type=Path, required=True)
    args = p.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(FileHandler(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink on {args.host}:{args.port} -> {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
