"""The parents' portal realm: sign-in by e-mail address and one-time code, and
the gate in front of every /parents/ page (U-4)."""

from django.shortcuts import redirect
from django.urls import Resolver404, resolve

PARENT_PREFIX = "/parents/"
PARENT_PUBLIC_URL_NAMES = {"parent_login", "parent_login_code"}


class ParentGateMiddleware:
    """Every /parents/ page except the sign-in steps needs a signed-in parent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(PARENT_PREFIX):
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in PARENT_PUBLIC_URL_NAMES and not parent_session(request):
                return redirect("parent_login")
        return self.get_response(request)


def parent_session(request):
    """The e-mail address the parent signed in with, or None."""
    return None
