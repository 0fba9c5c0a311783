"""`GET /api/v1/subjects/{code}` moved to the disclosure chapter (xinyong.disclose.views), where the page,
the API and the CSV export share one flow; this name stays for imports that still use it."""

from xinyong.disclose.views import router

__all__ = ["router"]
