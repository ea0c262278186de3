"""This app's rows of the authorisation matrix (tests/students/test_access_table.py).

TABLE: URL name -> (kwargs, {role: status of GET}); kwargs name world keys by
"@name". POST_TABLE: the same for URLs that only take POST. `world` adds this
app's objects to the shared world (a dict) and returns nothing.
"""

import base64

from tests.students.access_roles import FULL_A, ROLES, every, only  # noqa: F401

PUPIL = {"pupil_id": "@pupil"}
KEEPERS = {"director_a", "app_admin_a", "fg"}  # disclosures.view: the log and the register
REGISTER = {"director_a", "app_admin_a"}  # disclosures.register

TABLE = {
    # The log and one disclosure: those who keep the log; the data only for
    # those who make disclosures (the director here); others a 404.
    "disclosure_list": ({}, only(KEEPERS, deny=403)),
    "disclosure_detail": ({"disclosure_id": "@disclosure"}, only(KEEPERS)),
    "disclosure_data": ({"disclosure_id": "@disclosure"}, {**only({"director_a"}), "app_admin_a": 403, "fg": 403}),
    "disclosure_new": ({"kind": "vaste-ontvanger"}, only({"director_a"}, deny=403)),
    # From the dossier: the emergency is open to every role with the whole dossier.
    "disclosure_pupil_new": ({**PUPIL, "kind": "noodgeval"}, only(FULL_A)),
    "dossier_disclosures": (PUPIL, only(FULL_A)),
    # The director (U-2)
    "disclosure_inbox": ({}, only({"director_a"}, deny=403)),
    "disclosure_decide": ({"disclosure_id": "@pending"}, only({"director_a"}, deny=403)),
    "disclosure_review": ({"disclosure_id": "@emergency"}, only({"director_a"}, deny=403)),
    # The register
    "recipient_list": ({}, only(KEEPERS, deny=403)),
    "recipient_seed": ({}, every(405)),
    "recipient_add": ({}, only(REGISTER, deny=403)),
    "recipient_edit": ({"recipient_id": "@recipient"}, only(REGISTER, deny=403)),
    "recipient_agreement": ({"recipient_id": "@recipient"}, only(KEEPERS, deny=403)),
    # The parents' portal: its own realm, a staff session opens nothing there.
    "parent_disclosures": (PUPIL, every(302)),
    "parent_disclosure_report": ({**PUPIL, "disclosure_id": "@transfer"}, every(302)),
}
POST_TABLE = {
    "recipient_seed": only(REGISTER, ok=302, deny=403),
}


def world(request, objects):
    from disclosures import actions
    from disclosures.seed import recipients_seed

    school = request.getfixturevalue("school_a")
    pupil = request.getfixturevalue("pupil_a5")
    director = request.getfixturevalue("director_a")
    teacher = request.getfixturevalue("teacher_a")
    recipients_seed(school.foundation)
    library = school.foundation.recipients.get(key="bibliotheek")
    processor = school.foundation.recipients.get(key="cfolio")
    processor.agreement_content = base64.b64encode(b"%PDF-1.4").decode()
    processor.save(update_fields=["agreement_content"])
    disclosure, _plan = actions.disclosure_export_make(
        school=school, recipient=library, kind="standing", pupils=[pupil], method="csv", acting_user=director
    )
    pending = actions.disclosure_request_make(
        school=school,
        pupils=[pupil],
        fields=["full_name"],
        purpose="Controle",
        recipient_detail="Inspecteur",
        method="inspection",
        acting_user=director,
    )
    emergency = actions.disclosure_emergency_make(
        pupil=pupil,
        fields=["full_name"],
        purpose="Ongeval",
        recipient_detail="112",
        method="phone",
        acting_user=teacher,
    )
    transfer = actions.disclosure_transfer_make(
        pupil=pupil, recipient_detail="De Regenboog", method="pdf", acting_user=director
    )
    objects.update(
        {
            "disclosure": disclosure.pk,
            "pending": pending.pk,
            "emergency": emergency.pk,
            "transfer": transfer.pk,
            "recipient": processor.pk,
        }
    )
