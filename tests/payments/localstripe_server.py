"""Starts localstripe on 127.0.0.1:PORT (its own entry point listens on every interface and
pickles its state to /tmp); the tests run it in a child process and stop it. Every POST's
path and Idempotency-Key header are appended to REQUEST_LOG, since localstripe ignores the
header and the tests check that it was sent."""

import sys

from aiohttp import web
from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None  # state lives and dies with the process


def recording(log_path: str):
    @web.middleware
    async def record(request, handler):
        if request.method == "POST":
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"{request.path} {request.headers.get('Idempotency-Key', '-')}\n")
        return await handler(request)

    return record


if __name__ == "__main__":
    port, log_path = int(sys.argv[1]), sys.argv[2]
    server.app.middlewares.insert(0, recording(log_path))
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)
