"""Report builders: the rows a use case fetched become a report. Rendering lives in the CLI layer.

Pure functions over plain rows (integer cents, Σ cents × probability, whole seconds): no
transaction, no database. The queries are `store/repos/reports.py`; the use cases that run one
and then its builder are `services/reports.py`.
"""
