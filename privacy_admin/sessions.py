"""Session engine: Django's database sessions with the owner's id recorded."""

import datetime

from django.contrib.sessions.backends.db import SessionStore as DBStore

USER_AGENT_KEY = "_pa_ua"
IP_KEY = "_pa_ip"
AUTH_AT_KEY = "pa_auth_at"


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        from privacy_admin.models import StaffSession

        return StaffSession

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        raw_id = data.get("_auth_user_id")
        obj.user_id = int(raw_id) if raw_id is not None else None
        obj.user_agent = (data.get(USER_AGENT_KEY) or "")[:200]
        obj.ip = data.get(IP_KEY)
        auth_at = data.get(AUTH_AT_KEY)
        obj.signed_in_at = datetime.datetime.fromtimestamp(auth_at, tz=datetime.UTC) if auth_at else None
        return obj
