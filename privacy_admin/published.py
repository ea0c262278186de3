"""Which version of a school's public privacy statement is in force.

The statement app sits to the right of every other app, so an app further
left (consent, which records under which statement a parent answered) cannot
import it. The statement app registers a provider here when it loads; callers
ask the core. Without a provider (the statement app not installed) the answer
is None: no version is known, and nothing fails.
"""

_provider = None


def register_statement_version_provider(fn):
    """`fn(school_id)` returns the number of the version in force for that
    school (making it first when the configuration changed), or None."""
    global _provider
    _provider = fn


def current_statement_version(school_id):
    if _provider is None or school_id is None:
        return None
    return _provider(school_id)
