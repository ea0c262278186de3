"""Load test of the portal on gunicorn, PostgreSQL and Redis (issue 10, item 2).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/privacy_admin REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/loadtest/run.py          # or: make loadtest

Everything runs on this machine and listens on 127.0.0.1 only, and stops by
itself: about 30 s of set-up, LOADTEST_SECONDS (60) of mixed load, three
times LOADTEST_PHASE_SECONDS (20) of saturation, then the tear-down.

1. Set-up. A scratch database (privacy_admin_loadtest, `--db`) on the server
   of DATABASE_URL, migrated, with the demo data (`seed_demo`) and a
   foundation of `--schools` schools of `--pupils-per-school` pupils with
   full dossiers, consent history, disclosures, requests and audit rows
   (the builder of bench/portal.py). Fresh keys for this run only.
2. Sessions without a login page: for each locust user a staff session that
   passed the password and the second factor (as a login leaves it: user,
   backend, session hash, device id and the times of both steps), or a
   parent signed in to the parents' portal (the realm's keys: e-mail
   address and times), written straight into the session store. Logging in
   through the forms would need the e-mailed code of the parents' portal
   and, for staff, a TOTP code accepted once per 30 s per user (replays are
   refused, S-3), and the login throttle would count 20 users on one
   address; the demo users' fixed TOTP secrets do not get around either.
3. gunicorn, 2 sync workers, DEBUG=false (production settings: no query log,
   secure cookies, HSTS; SECURE_SSL_REDIRECT=false since it is plain http on
   127.0.0.1), against the scratch database and REDIS_URL; e-mail goes to a
   sink on 127.0.0.1 that counts and discards it (the parents' portal sends
   a confirmation by SMTP inside the request).
4. locust, headless (no web interface, no port), on the same machine:
   `--users` (20) users for LOADTEST_SECONDS: teachers browsing dossiers,
   staff checking consent, parents changing a preference (see
   locustfile.py), with LOADTEST_WAIT seconds of think time. Users finish
   the request they are in when time is up (--stop-timeout), so every
   answered read is counted.
5. Saturation: the same number of users without think time, on one page at
   a time, LOADTEST_PHASE_SECONDS each: the lightest page behind the same
   middleware (the own security page), the dossier, and its substantive
   part (each read audited): the requests per second the server sustains
   for each, under the same load.
6. Figures: requests per second, p50/p95/p99 (exact, from every request),
   errors, per page; new `dossier.read_substantive` audit rows against the
   substantive reads answered 200 in all runs (must be exactly 1); the dossier's
   saturation throughput against the trivial view's. Targets with
   PASS/FAIL: no errors; p95 < 300 ms in the mixed run; dossier >= 40% of
   the trivial view. Exit status 1 when a target fails.

Locust, PostgreSQL and gunicorn share the machine's cores: the figures are
those of the whole system on this machine, client included.
"""

import argparse
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_DB = "privacy_admin_loadtest"
TARGET_P95_MS = 300
TARGET_DOSSIER_SHARE = 0.40
MIX = ["Teacher", "ConsentChecker", "Parent"]
PHASES = [("trivial view", "FloorOnly"), ("dossier", "DossierOnly"), ("substantive", "SubstantiveOnly")]


# --- an SMTP sink -------------------------------------------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: every message is counted and
    dropped."""

    def handle(self):
        self.wfile.write(b"220 loadtest sink\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 end with a dot\r\n")
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    pass
                with self.server.lock:
                    self.server.messages += 1
                self.wfile.write(b"250 dropped\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.lock = threading.Lock()
        self.messages = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()


# --- set-up -------------------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keys():
    from privacy_admin.env import new_field_key_item

    return {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEYS": new_field_key_item("k1"),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(40),
        "LOOKUP_HASH_KEY": secrets.token_urlsafe(40),
    }


def _staff_session(user):
    """A session as the login leaves it after the password and the code."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    from privacy_admin.actions import LAST_SEEN_KEY, OTP_AT_KEY
    from privacy_admin.models import StaffTOTPDevice
    from privacy_admin.sessions import AUTH_AT_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = time.time()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[AUTH_AT_KEY] = now
    store[LAST_SEEN_KEY] = now
    store[DEVICE_ID_SESSION_KEY] = StaffTOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    store[OTP_AT_KEY] = now
    store.create()
    return store.session_key


def _parent_session(email):
    """A session signed in to the parents' portal (consent.parents' keys)."""
    from importlib import import_module

    from django.conf import settings

    from consent import parents

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = time.time()
    store[parents.EMAIL_KEY] = email
    store[parents.AUTH_AT_KEY] = now
    store[parents.LAST_SEEN_KEY] = now
    store.create()
    return store.session_key


def plan(built, users, seed):
    """Sessions for every user, the pupils and groups of each school, the URLs."""
    import random

    from django.urls import reverse
    from django.utils.crypto import get_random_string

    from privacy_admin.models import Group, User
    from students.models import Guardian, GuardianLink, Pupil

    rng = random.Random(seed)
    schools = built.schools
    sessions = {"staff": [], "consent": [], "parents": []}
    for i in range(users):
        school = schools[i % len(schools)]
        role = ("teacher", "ib", "administration")[(i // len(schools)) % 3]
        for pool, who in (("staff", role), ("consent", "director" if i % 2 else "teacher")):
            user = User.objects.get(pk=school.staff[who])
            sessions[pool].append(
                {"session": _staff_session(user), "csrf": get_random_string(32), "school": school.school_id}
            )
    pupils, groups = {}, {}
    for school in schools:
        ids = list(Pupil.objects.filter(school_id=school.school_id, group__isnull=False).values_list("pk", flat=True))
        pupils[str(school.school_id)] = ids
        groups[str(school.school_id)] = list(
            Group.objects.filter(school_id=school.school_id).values_list("pk", flat=True)
        )
    for i in range(users):
        school = schools[i % len(schools)]
        pupil_id = rng.choice(pupils[str(school.school_id)])
        link = GuardianLink.objects.filter(pupil_id=pupil_id, has_authority=True).order_by("pk").first()
        email = Guardian.objects.get(pk=link.guardian_id).email.lower()
        sessions["parents"].append(
            {
                "session": _parent_session(email),
                "csrf": get_random_string(32),
                "school": school.school_id,
                "pupil": pupil_id,
            }
        )

    def pattern(name, **args):
        marker = {key: 987654321 + i for i, key in enumerate(args)}
        url = reverse(name, kwargs={args[key]: value for key, value in marker.items()} if args else None)
        for key, value in marker.items():
            url = url.replace(str(value), "{" + key + "}")
        return url

    urls = {
        "floor": pattern("account_security"),
        "group_detail": pattern("group_detail", group="group_id"),
        "dossier": pattern("dossier", pupil="pupil_id"),
        "dossier_substantive": pattern("dossier_substantive", pupil="pupil_id"),
        "dossier_consent": pattern("dossier_consent", pupil="pupil_id"),
        "consent_matrix": pattern("consent_matrix", group="group_id"),
        "parent_home": pattern("parent_home"),
        "parent_preferences": pattern("parent_preferences", pupil="pupil_id"),
    }
    return {"sessions": sessions, "pupils": pupils, "groups": groups, "urls": urls}


# --- running ------------------------------------------------------------------------


def start_gunicorn(env, port, log):
    args = [
        str(pathlib.Path(sys.executable).with_name("gunicorn")),
        "privacy_admin.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
    ]
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start (exit {process.returncode}); see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log.name}")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_locust(classes, seconds, users, host, env, workdir, label, log):
    records = workdir / f"records-{label}.json"
    env = {**env, "LOADTEST_RECORDS": str(records)}
    args = [
        str(pathlib.Path(sys.executable).with_name("locust")),
        "-f",
        str(pathlib.Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "15",
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    started, load_before = time.time(), os.getloadavg()[0]
    subprocess.run(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if not records.exists():
        raise SystemExit(f"locust wrote no records for the {label} run; see {log.name}")
    rows = json.loads(records.read_text())
    return {"rows": rows, "started": started, "seconds": seconds, "load": (load_before, os.getloadavg()[0])}


def _percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def summarise(rows):
    times = [r[2] for r in rows]
    errors = [r for r in rows if not r[4]]
    span = (max(r[5] for r in rows) - min(r[5] for r in rows)) if len(rows) > 1 else 0
    return {
        "requests": len(rows),
        "errors": len(errors),
        "seconds": span,
        "rps": len(rows) / span if span else float("nan"),
        "p50": _percentile(times, 0.50),
        "p95": _percentile(times, 0.95),
        "p99": _percentile(times, 0.99),
        "max": max(times) if times else float("nan"),
        "mean": statistics.fmean(times) if times else float("nan"),
        "statuses": sorted({r[3] for r in errors}),
    }


def _verdict(ok):
    return "PASS" if ok else "FAIL"


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="bench/loadtest/run.py",
        description=(
            "Load test on 127.0.0.1: gunicorn (2 workers) against a scratch PostgreSQL database (on the server of "
            "DATABASE_URL) and REDIS_URL, driven by headless locust: a mixed load, then saturation of the trivial "
            "view and of the dossier. Prints requests per second, p50/p95/p99, errors, the audit rows per "
            "substantive read and the dossier's throughput against the trivial view's, with the targets."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=int(os.environ.get("LOADTEST_SECONDS", "60")),
        help="length of the mixed run (LOADTEST_SECONDS)",
    )
    parser.add_argument(
        "--phase-seconds",
        type=int,
        default=int(os.environ.get("LOADTEST_PHASE_SECONDS", "20")),
        help="length of each saturation run (LOADTEST_PHASE_SECONDS)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=int(os.environ.get("LOADTEST_USERS", "20")),
        help="concurrent users (LOADTEST_USERS)",
    )
    parser.add_argument(
        "--wait",
        default=os.environ.get("LOADTEST_WAIT", "0.5,1.5"),
        help="think time between a user's tasks, min,max seconds (LOADTEST_WAIT)",
    )
    parser.add_argument("--schools", type=int, default=4, help="schools built beside the demo data")
    parser.add_argument("--pupils-per-school", type=int, default=400, help="current pupils per built school")
    parser.add_argument("--db", default=DEFAULT_DB, help="name of the scratch database (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and the work folder")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)
    if min(args.seconds, args.phase_seconds, args.users, args.schools) < 1:
        parser.error("--seconds, --phase-seconds, --users and --schools must be at least 1")
    try:
        low, high = (float(x) for x in args.wait.split(","))
    except ValueError:
        parser.error("--wait is two numbers, min,max seconds: e.g. 0.5,1.5")
    if not 0 <= low <= high:
        parser.error("--wait needs 0 <= min <= max")
    return args


def main(argv=None):
    args = _parse(argv)
    sys.path.insert(0, str(ROOT))
    from bench.portal import Server, build, require_postgres

    url = require_postgres("bench/loadtest/run.py")
    if url is None:
        return 2
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith(("redis://", "rediss://")):
        sys.stderr.write("bench/loadtest/run.py runs against Redis too: set REDIS_URL=redis://127.0.0.1:6379/0\n")
        return 2
    for tool in ("gunicorn", "locust"):
        if not pathlib.Path(sys.executable).with_name(tool).exists():
            sys.stderr.write(f"{tool} is not installed beside {sys.executable}: run `make install` first\n")
            return 2
    server = Server(url)
    scratch = server.url_for(args.db)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="loadtest-"))
    out = sys.stdout
    started = time.perf_counter()

    # The set-up runs here with DEBUG on (seed_demo needs it) and the keys of
    # this run; gunicorn gets the same keys with DEBUG off.
    keys = _keys()
    os.environ.update(keys)
    os.environ.update({"DATABASE_URL": scratch, "REDIS_URL": redis_url, "DEBUG": "true"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")
    out.write(
        f"set-up: scratch database {args.db}, migrate, seed_demo, "
        f"{args.schools} x {args.pupils_per_school} pupils ...\n"
    )
    out.flush()
    server.create(args.db)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from privacy_admin.models import AuditEvent

    gunicorn = sink = None
    log = open(workdir / "server.log", "w")
    try:
        call_command("migrate", verbosity=0)
        # The demo's notices (e.g. to the director about a parent's request) stay in memory.
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
        built = build([args.pupils_per_school] * args.schools, audit_per_pupil=35)
        the_plan = plan(built, args.users, seed=7)
        plan_file = workdir / "plan.json"
        plan_file.write_text(json.dumps(the_plan))
        connection.close()
        server.vacuum(args.db)
        out.write(f"  done in {time.perf_counter() - started:.0f} s: {built.rows['students_pupil']:,} pupils built\n")

        sink = SmtpSink()
        port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.server_address[1]),
            "EMAIL_USE_TLS": "false",
            "LOG_LEVEL": "WARNING",
            "LOADTEST_PLAN": str(plan_file),
            "LOADTEST_WAIT": args.wait,
        }
        gunicorn = start_gunicorn(env, port, log)
        host = f"http://127.0.0.1:{port}"
        out.write(f"gunicorn: 2 sync workers on {host}, DEBUG=false\n")

        baseline = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        connection.close()
        out.write(f"mixed load: {args.users} users for {args.seconds} s ...\n")
        out.flush()
        mixed = run_locust(MIX, args.seconds, args.users, host, env, workdir, "mixed", log)
        mails = sink.messages
        phases = {}
        for label, cls in PHASES:
            out.write(f"saturation, {label}: {args.users} users, no think time, {args.phase_seconds} s ...\n")
            out.flush()
            phases[label] = run_locust([cls], args.phase_seconds, args.users, host, env, workdir, cls, log)
        new_audit = AuditEvent.objects.filter(seq__gt=baseline)
        audited = new_audit.filter(action="dossier.read_substantive").count()
        health_audited = new_audit.filter(action="dossier.read_health").count()
        connection.close()
    finally:
        if gunicorn is not None:
            stop(gunicorn)
        if sink is not None:
            sink.shutdown()
        log.close()
        connection.close()
        if not args.keep:
            server.drop(args.db)

    ok = report(args, mixed, phases, audited, health_audited, mails, out)
    if args.json:
        pathlib.Path(args.json).write_text(
            json.dumps(
                {
                    "mixed": summarise(mixed["rows"]),
                    "pages": {
                        n: summarise([r for r in mixed["rows"] if r[0] == n]) for n in {r[0] for r in mixed["rows"]}
                    },
                    "phases": {k: summarise(v["rows"]) for k, v in phases.items()},
                    "audited": audited,
                    "load_average": {"mixed": mixed["load"], **{k: v["load"] for k, v in phases.items()}},
                },
                indent=2,
            )
        )
    if args.keep or not ok:
        out.write(f"load test finished in {time.perf_counter() - started:.0f} s; logs in {workdir}\n")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        out.write(f"load test finished in {time.perf_counter() - started:.0f} s\n")
    return 0 if ok else 1


def report(args, mixed, phases, audited, health_audited, mails, out):
    rows = mixed["rows"]
    total = summarise(rows)
    out.write(
        f"\n== mixed load: {args.users} users ({', '.join(MIX)}), think time {args.wait} s, {args.seconds} s; "
        f"{os.cpu_count()} CPU cores shared by gunicorn, PostgreSQL and locust; load average before the run "
        f"{mixed['load'][0]:.2f}, after it {mixed['load'][1]:.2f} (1 min) ==\n"
    )
    out.write(
        f"{'page':<22} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'errors':>6}\n"
    )
    names = sorted({r[0] for r in rows})
    for name in [*names, "all"]:
        s = total if name == "all" else summarise([r for r in rows if r[0] == name])
        rps = s["requests"] / total["seconds"] if total["seconds"] else float("nan")
        out.write(
            f"{name:<22} {s['requests']:>8} {rps:>7.1f} {s['p50']:>7.0f} {s['p95']:>7.0f} {s['p99']:>7.0f} "
            f"{s['max']:>7.0f} {s['errors']:>6}\n"
        )
    everything = rows + [r for p in phases.values() for r in p["rows"]]
    reads = sum(1 for r in everything if r[0] == "dossier_substantive" and r[3] == 200)
    ratio = audited / reads if reads else float("nan")
    out.write(
        f"\nsubstantive reads answered 200 (mixed and saturation runs): {reads}; new dossier.read_substantive "
        f"audit rows: {audited}; ratio {ratio:.4f}; health reads audited beside them: {health_audited}\n"
    )
    changed = sum(1 for r in rows if r[0] == "parent_preferences" and r[4])
    out.write(
        f"parents' preference posts answered: {changed}; confirmation e-mails received by the sink: {mails} "
        "(a post that changes nothing sends none)\n"
    )

    out.write(f"\n== saturation: {args.users} users, no think time, {args.phase_seconds} s each ==\n")
    sat = {label: summarise(p["rows"]) for label, p in phases.items()}
    for label, s in sat.items():
        out.write(
            f"{label:<14} {s['rps']:7.1f} req/s  p50 {s['p50']:.0f} ms  p95 {s['p95']:.0f} ms  errors {s['errors']}\n"
        )
    share = sat["dossier"]["rps"] / sat["trivial view"]["rps"] if sat["trivial view"]["rps"] else float("nan")
    errors = total["errors"] + sum(s["errors"] for s in sat.values())
    checks = [
        (f"no errors (all runs): {errors}", errors == 0),
        (f"p95 of the mixed run {total['p95']:.0f} ms < {TARGET_P95_MS} ms", total["p95"] < TARGET_P95_MS),
        (f"audit rows per substantive read {ratio:.4f} == 1", reads > 0 and audited == reads),
        (
            f"dossier throughput {share:.0%} of the trivial view's >= {TARGET_DOSSIER_SHARE:.0%}",
            share >= TARGET_DOSSIER_SHARE,
        ),
    ]
    out.write("\ntargets:\n")
    for text, ok in checks:
        out.write(f"  {_verdict(ok)}  {text}\n")
    if total["statuses"] or any(s["statuses"] for s in sat.values()):
        out.write(f"  error statuses: mixed {total['statuses']}, saturation {[s['statuses'] for s in sat.values()]}\n")
    return all(ok for _t, ok in checks)


if __name__ == "__main__":
    sys.exit(main())
