"""Dossier tabs contributed by apps further right (consent, disclosures, ...).

Those apps may import students, not the other way round; so they register
their tab here from their AppConfig.ready(), and the dossier's template shows
the registered tabs after its own."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url_name: str
    order: int


_TABS = {}


def register_tab(key, label, url_name, order=100):
    _TABS[key] = Tab(key, label, url_name, order)


def tabs():
    return sorted(_TABS.values(), key=lambda t: t.order)
