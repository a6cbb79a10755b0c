"""The hosted form page: a public form of a tenant's bundle served at /f/{tenant}/{form} for
visitors (a website sign-up, a QR code at an event), with its conditional fields, its URL
channel, its embedding rules and its abuse guards. A thin shell over
engine.service.public_forms, like the API and the admin pages; no sign-in.

One idea per module: routes (the URLs), visit (the visitor and the form), language, widgets
(a field's input), values (form text → field values), body (reading a submission), outcomes
(what the visitor is told), form_page and pages (HTML and JSON), headers (frames and CORS),
assets (the stylesheet and scripts), texts (the page's own words).
"""

from admin_ui.hosted.routes import router

__all__ = ["router"]
