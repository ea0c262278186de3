from django.urls import path  # noqa: F401

urlpatterns = []

# --- staff: consent tab, group matrix, categories (consent/views_staff.py) ----------
# --- parents' portal (consent/views_parents.py) ---------------------------------------
# --- publications (consent/views_publications.py) -------------------------------------
