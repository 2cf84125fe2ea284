"""Command-line tools: ``users create``, ``outbox send``, ``tick``, ``demo``, ``backup``,
``restore`` and ``bench-profile`` (one page's SQL and Python time, uncached:
``portal/profiling.py``)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from . import backup as backups
from . import demo as demo_data
from .audit.services import acting_as
from .auth import services as accounts
from .auth.models import Role, User
from .errors import ServiceError
from .extensions import db
from .outbox import services as outbox
from .tasks import registered_tasks, tick_task


@tick_task("outbox")
def _send_outbox():
    return outbox.send_pending()


@tick_task("expired tokens")
def _purge_tokens():
    return accounts.purge_expired_tokens()


def init_cli(app: Flask) -> None:
    users = AppGroup("users", help="Manage accounts.")
    app.cli.add_command(users)

    @users.command("create")
    @click.option("--role", type=click.Choice(Role.ALL), required=True)
    @click.option("--email", required=True)
    @click.option("--name", default=None, help="Defaults to the part of the email before @.")
    @click.option("--organisation", default="")
    @click.option("--password", default=None,
                  help="Set a password now; without it an invitation link is put in the outbox.")
    def create_user(role, email, name, organisation, password):
        """Create an account (admin, staff, supervisor or client)."""
        with current_app.test_request_context(), acting_as(None, "cli"):
            try:
                user = accounts.create_account(
                    role=role, email=email, name=name or email.split("@")[0],
                    organisation=organisation, password=password,
                )
            except ServiceError as error:
                raise click.ClickException(str(error.message)) from None
            click.echo(f"created {user.role} {user.email} (id {user.id})")
            if password is None:
                click.echo("an invitation link to set the password is in the outbox")

    @users.command("list")
    def list_users():
        for user in db.session.scalars(sa.select(User).order_by(User.id)):
            state = "active" if user.active else "inactive"
            click.echo(f"{user.id}\t{user.role}\t{user.email}\t{state}")

    outbox_group = AppGroup("outbox", help="The email outbox.")
    app.cli.add_command(outbox_group)

    @outbox_group.command("send")
    @click.option("--batch", default=100, show_default=True)
    def send(batch):
        """Deliver pending email over SMTP (PORTAL_MAIL_SERVER)."""
        if not outbox.smtp_configured():
            click.echo("SMTP is not configured (PORTAL_MAIL_SERVER); mail stays in the outbox")
            return
        with current_app.test_request_context(), acting_as(None, "cli"):
            result = outbox.send_pending(batch)
        click.echo(f"sent {result['sent']}, to retry {result['retry']}, failed {result['failed']}")

    @app.cli.command("tick")
    def tick():
        """Run all periodic work once (cron: every 5 minutes). Idempotent."""
        with current_app.test_request_context(), acting_as(None, "tick"):
            for name, task in registered_tasks():
                click.echo(f"{name}: {task()}")

    from .bookings.bench import init_bench_cli
    from .feedback.bench import init_feedback_bench_cli
    from .rentals.bench import init_rentals_bench_cli

    init_bench_cli(app)
    init_rentals_bench_cli(app)
    init_feedback_bench_cli(app)
    from .meetings.bench import init_meetings_bench_cli

    init_meetings_bench_cli(app)

    @app.cli.command("bench-profile")
    @click.argument("path")
    @click.option("--as", "role", type=click.Choice(Role.ALL), default=None,
                  help="Render as the first active account of this role.")
    @click.option("--user", "email", default=None, help="Render as this account (email).")
    @click.option("--runs", default=5, show_default=True, type=click.IntRange(1, 1000),
                  help="Timed renders after one warm-up; the median is reported.")
    @click.option("--statements", default=20, show_default=True, type=click.IntRange(1),
                  help="How many statement groups to print.")
    @click.option("--frames", default=25, show_default=True, type=click.IntRange(1),
                  help="How many Python frames to print per table.")
    @click.option("--width", default=160, show_default=True, type=click.IntRange(0),
                  help="Cut statements to this many characters (0: print them whole).")
    def bench_profile(path, role, email, runs, statements, frames, width):
        """Render PATH in-process with the page cache off; print its SQL statements with
        their times (grouped, slowest first), the render time (median of --runs) and the
        top Python frames (cProfile)."""
        from . import profiling

        if role and email:
            raise click.UsageError("give --as or --user, not both")
        if not path.startswith("/"):
            raise click.UsageError("PATH is the page's path, e.g. /venues/overview?month=2026-12")
        user = profiling.find_user(role=role, email=email)
        if (role or email) and user is None:
            raise click.ClickException(f"no active account {email or 'with the role ' + role}")
        who = f"{user.email} ({user.role})" if user is not None else "anonymous"
        user_id = user.id if user is not None else None
        db.session.remove()
        result = profiling.profile_page(current_app._get_current_object(), path, user_id,
                                        who=who, runs=runs, frames=frames)
        click.echo(profiling.report(result, statements=statements, width=width))
        if result.status >= 300:  # a redirect (to the login page) or an error: not the page
            raise click.ClickException(f"{path} answered HTTP {result.status} as {who}")

    @app.cli.command("demo")
    def demo():
        """Load the demo dataset (refused in production)."""
        if current_app.config["PORTAL_ENV"] == "production":
            raise click.ClickException("demo data is refused in production")
        if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
            click.echo("the database already holds accounts; demo data not loaded again")
            return
        with current_app.test_request_context(), acting_as(None, "demo"):
            context = demo_data.run_loaders()
        click.echo("demo data loaded; log in with (password for all: "
                   f"{demo_data.DEMO_PASSWORD}):")
        for role, email in context["logins"]:
            click.echo(f"  {role:<11} {email}")

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def backup(directory):
        """Back up the database and the uploads into DIRECTORY (new or empty), with a manifest."""
        try:
            manifest = backups.backup(directory)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"backed up the {manifest['engine']} database at migration "
                   f"{manifest['alembic_revision']} and {len(manifest['files']) - 1} uploaded "
                   f"files into {directory}")

    @app.cli.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True,
                  help="Replace a database that holds data and a non-empty uploads folder.")
    def restore(directory, force):
        """Restore a backup made by ``backup``, then migrate forward."""
        try:
            manifest = backups.restore(directory, force=force)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"restored the backup of {manifest['created_at']} (migration "
                   f"{manifest['alembic_revision']}); the database is migrated to "
                   f"{backups.current_revision()}")
