"""Demo incidents for `manage.py seed_demo`: one just reported at the first
school (its clock running) and one closed one at the second, notified to the
AP. Idempotent: created only when the demo has no incidents yet. Texts are
synthetic and name nobody."""

import datetime

from django.utils import timezone

from breaches import services
from breaches.models import Breach


def seed(schools, staff, stdout):
    if Breach.objects.exists():
        return
    school_a, school_b = schools["99MS"], schools["99DS"]
    fg = staff["fg"]
    now = timezone.now()
    services.breach_report(
        reporter=staff["leerkracht.a"],
        foundation=school_a.foundation,
        school=school_a,
        aware_at=now - datetime.timedelta(hours=5),
        what_happened="E-mail met de groepslijst van groep 6 per ongeluk naar een verkeerde ouder gestuurd.",
        data_concerned="Groepslijst: namen en adressen van de leerlingen.",
        approx_pupils=27,
        ongoing=False,
    )
    closed = services.breach_report(
        reporter=staff["leerkracht.b"],
        foundation=school_b.foundation,
        school=school_b,
        aware_at=now - datetime.timedelta(days=30),
        what_happened="Onversleutelde USB-stick met toetsresultaten verloren in de trein.",
        data_concerned="Toetsresultaten van groep 8.",
        approx_pupils=22,
        ongoing=False,
    )
    steps = [
        (
            "assess",
            {
                "started_at": now - datetime.timedelta(days=30, hours=3),
                "ended_at": now - datetime.timedelta(days=30, hours=3),
                "discovered_how": "De leerkracht miste de stick bij thuiskomst.",
                "effects": ["lost"],
                "data_categories": ["contact", "pupil_file"],
                "approx_records": 22,
                "approx_people": 22,
                "groups_affected": "Leerlingen van groep 8",
                "measures_before": "Geen: de stick was niet versleuteld.",
                "consequences": "Toetsresultaten kunnen door een vinder worden ingezien.",
                "measures_taken": "",
            },
        ),
        (
            "decide",
            {
                "severity": Breach.Severity.RISK,
                "severity_explanation": "Onversleuteld, leerlingresultaten, niet teruggevonden.",
                "consequences": "Toetsresultaten kunnen door een vinder worden ingezien.",
                "ap_notify": True,
                "ap_notify_reason": "Risico voor de betrokkenen valt niet uit te sluiten.",
            },
        ),
        ("ap", {"ap_notified_at": now - datetime.timedelta(days=29), "ap_reference": "M-DEMO-0001", "late_reason": ""}),
        (
            "people",
            {
                "people_told": False,
                "people_told_at": None,
                "people_told_whom": "",
                "people_told_reason": "Geen hoog risico: alleen toetsscores, geen gevoelige gegevens.",
            },
        ),
        (
            "close",
            {
                "measures_taken": "Alle leerkrachten kregen een versleutelde stick.",
                "lessons_learned": "Geen leerlinggegevens op onversleutelde media.",
            },
        ),
    ]
    for step, fields in steps:
        services.breach_update(closed, step=step, fields=fields, acting_user=fg)
    stdout.write("breaches: 2 demo incidents (one reported, one closed)")
