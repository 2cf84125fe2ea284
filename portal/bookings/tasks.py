from ..tasks import tick_task
from .services import expire_stale_requests


@tick_task("expired booking requests")
def _expire():
    return expire_stale_requests()
