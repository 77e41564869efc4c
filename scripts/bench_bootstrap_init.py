"""Init time of Lambda bootstraps: from spawn until the first
`GET /2018-06-01/runtime/invocation/next` reaches a fake Lambda Runtime API on loopback.

Each bootstrap is spawned --spawns times with the environment Lambda gives a function (plus
TABLE_NAME and fake credentials); AWS_ENDPOINT_URL points at this same server, which answers
anything but that request with 404, so a bootstrap that calls AWS before asking for an event
fails and is reported instead of timed. The request is never answered: once it has arrived the
bootstrap is killed. Prints the median, fastest and slowest per bootstrap.

--aws-endpoint URL --table NAME point the bootstraps at an emulator (moto_server) holding that
table and its config document instead, to time bootstraps that read them during init.

Usage: python3 scripts/bench_bootstrap_init.py [--spawns N] [--aws-endpoint URL --table NAME]
       NAME=PATH...
(scripts/bench-bootstraps.sh runs it; standard library only.)
"""

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

NEXT = "/2018-06-01/runtime/invocation/next"


class FakeRuntimeApi(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.arrived = threading.Event()
        self.arrived_at = 0.0
        self.release = threading.Event()
        self.other = []

    def port(self):
        return self.server_address[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        if self.path == NEXT:
            if not server.arrived.is_set():
                server.arrived_at = time.monotonic()
                server.arrived.set()
            # Held open until the bootstrap is killed (it would wait here for an event).
            server.release.wait(30)
            return
        self.refuse()

    def do_POST(self):
        self.refuse()

    def refuse(self):
        self.server.other.append(f"{self.command} {self.path}")
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def environment(name, port, aws_endpoint, table):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "_HANDLER": "bootstrap",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": aws_endpoint or f"http://127.0.0.1:{port}",
        "TABLE_NAME": table,
        "HISTORY_RETENTION_DAYS": "90",
        "RUST_LOG": "info",
    }
    if name == "api":
        # As the template sets it: the key's secret (a name works as well as an ARN).
        env["API_KEY_SECRET_ARN"] = "balance-alert/api-key"
    return env


def one_spawn(server, name, path, args):
    """Milliseconds from spawn to the first `next` request, or an error string."""
    server.arrived.clear()
    server.release.clear()
    server.other.clear()
    env = environment(name, server.port(), args.aws_endpoint, args.table)
    start = time.monotonic()
    child = subprocess.Popen(
        [path], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while not server.arrived.wait(0.01):
            if child.poll() is not None:
                err = child.stderr.read().decode(errors="replace").strip()
                return f"exited ({child.returncode}) before asking for an event: {err[-400:]}"
            if time.monotonic() - start > 10:
                return "did not ask for an event within 10 s"
        return (server.arrived_at - start) * 1000
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
        server.release.set()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spawns", type=int, default=20)
    parser.add_argument("--aws-endpoint")
    parser.add_argument("--table", default="balance-alert-bench")
    parser.add_argument("bootstraps", nargs="+", metavar="NAME=PATH")
    args = parser.parse_args()
    server = FakeRuntimeApi()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed = False
    print(f"init: spawn → first GET {NEXT} (ms, {args.spawns} spawns)")
    print(f"{'function':<9} {'median':>8} {'fastest':>8} {'slowest':>8}")
    for spec in args.bootstraps:
        name, path = spec.split("=", 1)
        one_spawn(server, name, path, args)  # warm-up: page cache, dynamic loader
        times = []
        for _ in range(args.spawns):
            t = one_spawn(server, name, path, args)
            if isinstance(t, str):
                print(f"{name}: {t}", file=sys.stderr)
                if server.other:
                    print(f"{name}: it called {server.other[:3]}", file=sys.stderr)
                failed = True
                break
            times.append(t)
        if times:
            print(
                f"{name:<9} {statistics.median(times):8.1f} {min(times):8.1f} {max(times):8.1f}"
            )
    server.shutdown()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
