from flask import Blueprint

# cli_group=None: ``flask bench-seed-surveys`` sits beside the other bench commands.
bp = Blueprint("surveys", __name__, url_prefix="/surveys", cli_group=None)

from . import bench, demo, figures, mine, models, tasks, tiles, views  # noqa: E402,F401
