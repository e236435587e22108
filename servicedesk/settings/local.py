"""Settings for ``make demo`` and local development."""

from .base import *  # noqa: F403

DEBUG = env.env_bool("DEBUG", True)  # noqa: F405
