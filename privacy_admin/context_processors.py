from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    caps = set()
    if user is not None and user.is_authenticated and getattr(user, "is_verified", lambda: False)():
        caps = user.capabilities()
    return {"caps": caps, "idle_minutes": settings.SESSION_IDLE_MINUTES}
