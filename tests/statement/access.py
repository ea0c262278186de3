"""This app's rows of the authorisation matrix (tests/students/test_access_table.py).

TABLE: URL name -> (kwargs, {role: status of GET}); kwargs name world keys by
"@name". POST_TABLE: the same for URLs that only take POST. `world` adds this
app's objects to the shared world (a dict) and returns nothing.
"""

from tests.students.access_roles import FULL_A, ROLES, every, only  # noqa: F401

TABLE = {}
POST_TABLE = {}


def world(request, objects):
    pass
