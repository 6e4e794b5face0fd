"""Reading lead and opportunity files for ``crm lead import`` and ``crm opp import``.

Pure standard library: `reader` detects the encoding and delimiter and streams the rows,
`headers` maps the file's columns to record fields, `rows` turns one row into a checked record.
"""
