"""Starts localstripe on 127.0.0.1:PORT (its own entry point listens on every interface and
pickles its state to /tmp); the tests run it in a child process and stop it."""

import sys

from aiohttp import web
from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None  # state lives and dies with the process

if __name__ == "__main__":
    web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
