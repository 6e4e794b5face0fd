"""Report builders: the rows a use case fetched become a report. Rendering lives in the CLI layer.

Pure functions over plain rows (integer cents, Σ cents × probability, whole seconds): no
transaction, no database. The queries are `store/repos/reports.py`; the use cases that run one
and then its builder are `services/reports.py`.
"""

from datetime import date

MAX_STALE_DAYS = (date(9999, 12, 31) - date(1900, 1, 1)).days
"""The largest `report stale --days`: the span of the calendar crm accepts (2,958,463 days).
A longer quiet period cannot exist, and past it `today - days` leaves the calendar (and, on
PostgreSQL, `days × 86,400` seconds leaves BIGINT); both backends refuse it the same way."""

DEFAULT_STALE_DAYS = 14
"""How many quiet days make a deal stale when neither `--days` nor its stage says."""

NO_GROUP = "(none)"
"""The group of deals without an owner (or leads without a source) in the grouped reports."""

SECONDS_PER_DAY = 86_400
