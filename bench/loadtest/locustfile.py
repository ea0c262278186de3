"""The users of the load test (issue 10, item 2). Run by bench/loadtest/run.py,
which builds the data, starts gunicorn and reads what this file records;
not meant to be run on its own.

Every user has a session made directly in the session store by run.py (a
staff session that passed the password and the second factor, or a parent
signed in to the parents' portal), given in the plan file LOADTEST_PLAN.
Cookies go in an explicit header: the session key and a CSRF secret chosen
by run.py. Redirects are not followed, so a page that answers with a
redirect (to the login, the lock screen) counts as an error, not as the page
it leads to.

Mixed load (the 60-second run):
- Teacher (weight 10): the group overview, the dossier, its substantive part
  (audited) and its consent tab, of random pupils of the school.
- ConsentChecker (weight 5): the consent matrix of a random group of the
  school, the dossier's consent tab, the group overview.
- Parent (weight 5): the parents' portal, then a changed preference for one
  question of the child, posted with the CSRF token from the page.
Think time between tasks: LOADTEST_WAIT seconds ("min,max").

Saturation (the short runs after it, no think time): FloorOnly fetches the
user's own security page, the lightest page behind the same middleware;
DossierOnly fetches the dossier of a random pupil; SubstantiveOnly its
substantive part, each read writing its audit row (the audit chain's head is
locked by every audited write, so this is the ceiling of audited reads).

Every request is recorded (name, ms, status, ok, time) and written as JSON to
LOADTEST_RECORDS when locust quits; run.py computes the figures from it.
"""

import itertools
import json
import os
import pathlib
import random
import re
import time

from locust import FastHttpUser, between, constant, events, task

PLAN = json.loads(pathlib.Path(os.environ["LOADTEST_PLAN"]).read_text())
URLS = PLAN["urls"]
WAIT = tuple(float(x) for x in os.environ.get("LOADTEST_WAIT", "0.5,1.5").split(","))
RECORDS = []
_TAKEN = {pool: itertools.count() for pool in PLAN["sessions"]}
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_VERSION = re.compile(r'name="(version_(\d+))" value="(\d+)"')


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    RECORDS.append([name, request_type, response_time, status, exception is None, time.time()])


@events.quitting.add_listener
def _dump(environment, **kwargs):
    pathlib.Path(os.environ["LOADTEST_RECORDS"]).write_text(json.dumps(RECORDS))


class PortalUser(FastHttpUser):
    abstract = True
    pool = ""
    wait_time = between(*WAIT)

    def on_start(self):
        sessions = PLAN["sessions"][self.pool]
        self.me = sessions[next(_TAKEN[self.pool]) % len(sessions)]
        self.cookie = f"sessionid={self.me['session']}; csrftoken={self.me['csrf']}"

    def url(self, name, **values):
        return URLS[name].format(**values)

    def page(self, name, expect=200, **values):
        """GET, without following redirects; anything but `expect` is an error."""
        with self.client.get(
            self.url(name, **values),
            name=name,
            headers={"Cookie": self.cookie},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"status {response.status_code}")
                return None
            return response.text

    def pupil(self):
        return random.choice(PLAN["pupils"][str(self.me["school"])])

    def group(self):
        return random.choice(PLAN["groups"][str(self.me["school"])])


class Teacher(PortalUser):
    """Browses dossiers of the school's pupils."""

    weight = 10
    pool = "staff"

    @task(1)
    def group_overview(self):
        self.page("group_detail", group=self.group())

    @task(3)
    def dossier(self):
        self.page("dossier", pupil=self.pupil())

    @task(3)
    def dossier_substantive(self):
        self.page("dossier_substantive", pupil=self.pupil())

    @task(1)
    def dossier_consent(self):
        self.page("dossier_consent", pupil=self.pupil())


class ConsentChecker(PortalUser):
    """Checks consent before taking photos: the group's matrix, a pupil's tab."""

    weight = 5
    pool = "consent"

    @task(2)
    def consent_matrix(self):
        self.page("consent_matrix", group=self.group())

    @task(1)
    def dossier_consent(self):
        self.page("dossier_consent", pupil=self.pupil())

    @task(1)
    def group_overview(self):
        self.page("group_detail", group=self.group())


class Parent(PortalUser):
    """Opens the parents' portal and changes one preference of the child."""

    weight = 5
    pool = "parents"

    @task
    def change_preference(self):
        html = self.page("parent_home")
        if html is None:
            return
        action = self.url("parent_preferences", pupil=self.me["pupil"])
        form = html[html.find(f'action="{action}"') :]
        form = form[: form.find("</form>")]
        token, versions = _CSRF.search(form), _VERSION.findall(form)
        if token is None or not versions:
            return
        data = {"csrfmiddlewaretoken": token.group(1)}
        data.update({name: version for name, _category, version in versions})
        _name, category, _version = random.choice(versions)
        data[f"category_{category}"] = random.choice(["given", "refused"])
        with self.client.post(
            action,
            data=data,
            name="parent_preferences",
            headers={"Cookie": self.cookie},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")


class FloorOnly(PortalUser):
    """Saturation: the lightest page behind the same middleware."""

    pool = "staff"
    wait_time = constant(0)

    @task
    def floor(self):
        self.page("floor")


class DossierOnly(PortalUser):
    """Saturation: the dossier of a random pupil of the school."""

    pool = "staff"
    wait_time = constant(0)

    @task
    def dossier(self):
        self.page("dossier", pupil=self.pupil())


class SubstantiveOnly(PortalUser):
    """Saturation: the substantive part of a random pupil's dossier (audited)."""

    pool = "staff"
    wait_time = constant(0)

    @task
    def dossier_substantive(self):
        self.page("dossier_substantive", pupil=self.pupil())
