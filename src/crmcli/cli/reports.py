"""`crm forecast` and `crm report …`: what the pipeline is likely to bring, and how it performs."""

from __future__ import annotations

from crmcli.cli.common import sub_app

app = sub_app("Reports: win rate, lead conversion, velocity, stale deals.")


def forecast() -> None:
    """Open deals by expected-close month or quarter, with overdue deals and won amounts."""
    raise NotImplementedError
