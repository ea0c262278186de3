"""The demo incidents (issue 8: "works in the browser on the demo data")."""

from django.core.management import call_command

from breaches.models import Breach


def test_seed_demo_adds_one_reported_and_one_closed_incident(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    states = sorted(Breach.objects.values_list("state", flat=True))
    assert states == [Breach.State.CLOSED, Breach.State.REPORTED]
    closed = Breach.objects.get(state=Breach.State.CLOSED)
    assert closed.ap_reference == "M-DEMO-0001" and closed.events.count() == 6
