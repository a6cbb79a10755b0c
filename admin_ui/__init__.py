"""The admin UI: Jinja2 templates and routes served by the same FastAPI app (issue: admin UI).

Nothing here yet; the API under /api/v1 is the only interface so far.
"""
