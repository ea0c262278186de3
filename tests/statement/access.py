"""This app's rows of the authorisation matrix (tests/students/test_access_table.py).

TABLE: URL name -> (kwargs, {role: status of GET}); kwargs name world keys by
"@name". POST_TABLE: the same for URLs that only take POST. `world` adds this
app's objects to the shared world (a dict) and returns nothing.

The statement itself is public (every role, like an anonymous visitor, gets
200); its texts are the director's and the application admin's; comparing
versions is the FG's.
"""

from tests.students.access_roles import every, only

BRIN = {"brin": "@statement_brin"}
TABLE = {
    "statement_public": (BRIN, every(200)),
    "statement_pdf": (BRIN, every(200)),
    "statement_versions": (BRIN, every(200)),
    "statement_version": ({**BRIN, "number": 1}, every(200)),
    "statement_version_pdf": ({**BRIN, "number": 1}, every(200)),
    "statement_admin": ({}, only({"director_a", "app_admin_a", "fg"}, deny=403)),
    "statement_text_edit": ({"school_id": "@school_a"}, only({"director_a", "app_admin_a"}, deny=403)),
    "statement_diff": ({"school_id": "@school_a"}, only({"fg"}, deny=403)),
}
POST_TABLE = {}


def world(request, objects):
    from privacy_admin.models import School
    from statement.services import statement_publish

    school = School.objects.get(pk=objects["school_a"])
    statement_publish(school)
    objects["statement_brin"] = school.brin
