"""The admin UI: server-rendered Jinja2 pages under /admin/, served by the API's FastAPI app.

A thin shell like the API: pages read and act through the service layer (`Services`), as the
signed-in user of the tenant's bundle, whose roles decide what each page allows.
"""

from admin_ui.web import mount

__all__ = ["mount"]
