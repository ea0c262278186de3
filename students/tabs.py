"""Dossier tabs contributed by apps further right (consent, disclosures, ...).

Those apps may import students, not the other way round; so they register
their tab here from their AppConfig.ready(), and the dossier's template shows
the registered tabs after its own: those whose `visible(access)` holds (the
same check the tab's own view makes, so no tab is shown that answers 404)."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url_name: str
    order: int
    visible: Callable | None = None  # visible(access) -> bool; None: for everyone who opens the dossier

    def shown_to(self, access):
        return self.visible is None or bool(self.visible(access))


_TABS = {}


def register_tab(key, label, url_name, order=100, visible=None):
    _TABS[key] = Tab(key, label, url_name, order, visible)


def tabs(access=None):
    """The registered tabs in order; with `access`, those shown to its holder."""
    return [t for t in sorted(_TABS.values(), key=lambda t: t.order) if access is None or t.shown_to(access)]
