"""Where the database lives. Light: imports neither SQLAlchemy nor SQLite."""

from __future__ import annotations

import os
import re
from pathlib import Path

APP_NAME = "crmcli"
DB_FILENAME = "crm.db"
DEMO_FILENAME = "demo.db"


def data_dir() -> Path:
    """The per-user data folder (platformdirs), e.g. ~/.local/share/crmcli on Linux."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def resolve_target(explicit: str | None) -> str:
    """The database to use: `--db`, else `CRM_DB`, else the per-user default file."""
    target = explicit or os.environ.get("CRM_DB")
    if target:
        return target
    return str(data_dir() / DB_FILENAME)


def demo_target() -> str:
    """The separate demo database: never the user's real one."""
    return str(data_dir() / DEMO_FILENAME)


def is_url(target: str) -> bool:
    """True when `target` is a database URL rather than a file path."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", target) is not None


_URL_PASSWORD = re.compile(r"(?<![\w+.-])([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*):[^\s'\"]*@")
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the password of every database URL in it replaced by `***`.

    Works on a bare URL (`db path`) and on any message or traceback that quotes one: the
    password runs to the last `@` of the URL, so an unescaped `@` in it is hidden too. A
    libpq keyword string's `password=…` is hidden as well.
    """
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def sqlite_path(target: str) -> Path | None:
    """The file of a SQLite target (a plain path or a sqlite:/// URL), else None."""
    if not is_url(target):
        return Path(target).expanduser()
    if target.startswith("sqlite:///"):
        return Path(target[len("sqlite:///") :]).expanduser()
    return None
