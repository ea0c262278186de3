"""This app's rows of the authorisation matrix (tests/students/test_access_table.py).

TABLE: URL name -> (kwargs, {role: status of GET}); kwargs name world keys by
"@name". POST_TABLE: the same for URLs that only take POST. `world` adds this
app's objects to the shared world (a dict) and returns nothing.

The NCO export and the leerplicht report need `disclosures.make` (of the cast
only the director); the register of processing `disclosures.view` (director,
application admin, FG). Without the capability: 403, before any pupil is
looked at.
"""

from tests.students.access_roles import only

TABLE = {
    "nco_export": ({}, only({"director_a"}, deny=403)),
    "leerplicht_list": ({}, only({"director_a"}, deny=403)),
    "leerplicht_report": ({"pupil_id": "@pupil"}, only({"director_a"}, deny=403)),
    "processing_register": ({}, only({"director_a", "app_admin_a", "fg"}, deny=403)),
}
POST_TABLE = {}


def world(request, objects):
    """The rows above need only the shared world's pupil of school A."""
