"""Parents' requests (R-RGT-1..4)."""

from django.db import models  # noqa: F401
