"""Which version of a school's public privacy statement is in force.

The statement app sits to the right of every other app, so an app further
left (consent, which records under which statement a parent answered) cannot
import it. The statement app registers a provider here when it loads; callers
ask the core. Without a provider (the statement app not installed) the answer
is None: no version is known, and nothing fails.
"""

import contextlib
import threading

_provider = None
_local = threading.local()


def register_statement_version_provider(fn):
    """`fn(school_id)` returns the number of the version in force for that
    school (making it first when the configuration changed), or None."""
    global _provider
    _provider = fn


def current_statement_version(school_id):
    if _provider is None or school_id is None:
        return None
    memo = getattr(_local, "pinned", None)
    if memo is None:
        return _provider(school_id)
    if school_id not in memo:
        memo[school_id] = _provider(school_id)
    return memo[school_id]


@contextlib.contextmanager
def pinned():
    """Within one bulk operation that changes no configuration (the demo's
    consent answers), each school's version is determined once instead of
    per answer: nothing the statement says can change inside the block."""
    outer = getattr(_local, "pinned", None)
    _local.pinned = {} if outer is None else outer
    try:
        yield
    finally:
        _local.pinned = outer
