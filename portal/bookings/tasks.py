from ..tasks import tick_task
from .services import expire_stale_requests


@tick_task("expired booking requests")
def _expire():
    return expire_stale_requests()


@tick_task("waitlist offers")
def _waitlist():
    from .waitlist import lapse_past_entries, offer_freed_time

    return {"lapsed": lapse_past_entries(), "offered": offer_freed_time()}


@tick_task("venue figures of the months that have ended")
def _store_months():
    from .reports import store_months

    return store_months()
