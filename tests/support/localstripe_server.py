"""localstripe on loopback only, without its store file in /tmp (shared by other processes):
`python -m tests.support.localstripe_server PORT`."""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    port = int(sys.argv[1])
    resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
