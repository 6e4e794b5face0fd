"""Report data: rows and a totals row computed in SQL. Rendering lives in the CLI layer."""
