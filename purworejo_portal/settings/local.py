"""Development defaults: `make run`. DEBUG on, keys generated into an untracked file."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ACCOUNT_EMAIL_VERIFICATION", "optional")

from purworejo_portal.settings.base import *  # noqa: F403
