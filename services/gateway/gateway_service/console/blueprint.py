"""The console's Flask blueprint (``/console/``): templates and static files of its own.

Page modules (``pages/``) add their routes to :data:`bp`; ``console/__init__.py`` imports
each of them, in one list.
"""

from flask import Blueprint

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
