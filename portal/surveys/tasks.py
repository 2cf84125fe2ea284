"""Surveys' periodic work: the automatic reminder run before a round closes (once per round,
through :func:`portal.alerts.send_once`)."""

from __future__ import annotations

from ..tasks import tick_task
from . import services


@tick_task("survey reminders")
def _survey_reminders():
    return services.send_due_reminders()
