"""The demo register and disclosures (issue 5: "works in the browser on the demo data")."""

import io

from django.core.management import call_command

from disclosures import demo
from disclosures.models import Disclosure, Recipient
from disclosures.seed import KEYS
from privacy_admin.models import School, User


def test_seed_demo_gives_one_of_each_common_kind_once(db, settings):
    """R-DIS-1..3, R-DIS-5, U-2: the standard register, agreements in each
    state, and one disclosure of each common kind with one pending Inspectie
    request; a second run adds nothing."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    # The second run of this app's part (the whole command is proven idempotent elsewhere).
    out = io.StringIO()
    demo.seed(
        schools={s.brin: s for s in School.objects.all()}, staff={u.username: u for u in User.objects.all()}, stdout=out
    )
    assert "0 register entries added, 0 disclosures made" in out.getvalue()
    assert set(KEYS) <= set(Recipient.objects.values_list("key", flat=True))
    kinds = sorted(Disclosure.objects.values_list("kind", "status"))
    assert kinds == sorted(
        [
            ("standing", "disclosed"),
            ("consent", "disclosed"),
            ("processor", "disclosed"),
            ("transfer", "disclosed"),
            ("emergency", "disclosed"),
            ("inspectie", "disclosed"),
            ("inspectie", "pending"),
        ]
    )
    states = {r.key: r.agreement_state() for r in Recipient.objects.filter(kind="processor")}
    assert states["onderwijs-transparant"] == "expired" and states["microsoft"] == "missing"
    assert states["parnassys"] == "ok"
    consent = Disclosure.objects.get(kind="consent")
    assert 0 < consent.pupil_count < Disclosure.objects.get(kind="standing").pupil_count
