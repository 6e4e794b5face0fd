"""Report data: rows and a totals row computed in SQL. Rendering lives in the CLI layer."""

from datetime import date

MAX_STALE_DAYS = (date(9999, 12, 31) - date(1900, 1, 1)).days
"""The largest `report stale --days`: the span of the calendar crm accepts (2,958,463 days).
A longer quiet period cannot exist, and past it `today - days` leaves the calendar (and, on
PostgreSQL, `days × 86,400` seconds leaves BIGINT); both backends refuse it the same way."""
