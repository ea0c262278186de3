"""The real processes the fault tests start, stop and kill: a throwaway Redis
on a free port (never the machine's shared one), Celery workers and beats,
and gunicorn. Each runs in its own session (process group), so a SIGKILL of
"the worker" takes its pool children with it, as a crashed machine would;
only processes started here are ever signalled, by their own id."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.1):
    """Poll `predicate` until it returns something true; that value. Fails
    the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Process:
    """A child process in its own process group, output to a log file."""

    def __init__(self, name, argv, env, log_dir):
        self.name = name
        self.log = Path(log_dir) / f"{name}.log"
        self._log_file = open(self.log, "ab")  # closed by kill() or stop()
        self.popen = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self):
        """Pids of the direct children (a prefork worker's pool processes)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def kill(self):
        """SIGKILL to the whole group: no handler runs, nothing is acknowledged."""
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._log_file.close()

    def stop(self, timeout=15):
        """SIGTERM (a warm shutdown), SIGKILL if it does not end in time."""
        if self.alive():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log_file.close()


class Redis:
    """A throwaway redis-server on a free loopback port, without persistence."""

    def __init__(self, log_dir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process = None

    def cli(self, *args):
        result = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.stdout.strip()

    def start(self):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = Process(f"redis-{self.port}", argv, os.environ.copy(), self.log_dir)
        wait_until(lambda: self.cli("ping") == "PONG", 10, f"redis on port {self.port}")

    def stop(self):
        if self.process is not None:
            self.process.stop()
            self.process = None

    def freeze(self):
        """SIGSTOP: the port still accepts connections, nothing answers (a hung
        server or a network that drops packets)."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def queued(self, queue="celery"):
        return int(self.cli("llen", queue) or 0)

    def unacked(self):
        return int(self.cli("hlen", "unacked") or 0)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpClient:
    """A minimal browser for a real server (standard library only): keeps
    the cookies it is given and sent, follows no redirect, and returns
    (status, body) for every answer, errors included."""

    def __init__(self, base_url, **cookies):
        self.base_url = base_url
        self.cookies = dict(cookies)
        self.opener = urllib.request.build_opener(_NoRedirect())

    def request(self, path, data=None, timeout=60):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        url = self.base_url + path  # http://127.0.0.1:<port> of a server started here
        request = urllib.request.Request(url, data=body, headers={"Cookie": cookie})  # noqa: S310
        try:
            response = self.opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.read().decode(errors="replace")

    def get(self, path):
        return self.request(path)

    def post(self, path, data):
        return self.request(path, data)
