"""Runs localstripe on 127.0.0.1 only, on a free port, keeping its state in memory.

Started by scripts/localstripe with the venv's Python: `python localstripe.py READY_FILE`. It
writes "PID PORT" to READY_FILE as it starts; the script then waits until the port answers.
"""

import logging
import os
import socket
import sys

# This file's name would shadow the localstripe package: take its folder off the import path.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from aiohttp import web  # noqa: E402

import localstripe.resources  # noqa: E402
from localstripe.server import app  # noqa: E402


def main() -> None:
    ready_file = sys.argv[1]

    # localstripe pickles its whole store after every write to the fixed path
    # /tmp/localstripe.pickle, shared by every instance on the machine (TMPDIR does not move
    # it). Tests need no persistence: keep the state in this process only.
    localstripe.resources.Store.dump_to_disk = lambda self: None

    # Its own entry point binds every interface; bind loopback, and port 0 so that no other
    # process can take the port between choosing and binding it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def announce(_app: web.Application) -> None:
        with open(ready_file + ".tmp", "w") as f:
            f.write(f"{os.getpid()} {port}\n")
        os.replace(ready_file + ".tmp", ready_file)

    app.on_startup.append(announce)
    web.run_app(app, sock=sock, print=None, access_log=logging.getLogger("aiohttp.access"))


if __name__ == "__main__":
    main()
