"""The `crm` command line: one Typer sub-app per noun. Parse, call a service, render."""
