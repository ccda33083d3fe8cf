"""All rendering: what a run's results look like on a terminal, in a pipe, in a file.

`text` holds the one safe-text function (`safe`) every string from a payload, a request
or a header passes through before it reaches a terminal, and the number formats;
`streams` the output streams (colour policy, batched lines, the one loop that reports
unreadable input); `stdio` the process's own stdout and stderr, whose failed writes reach
the one exit path as exceptions; `locate` the line and column of a failing member in the source text;
one module per command's rendering (`show`, `validate` with its reporters by name,
`stats`, `types`, `schema`, `verify`, `listen`; `parquet`: show's facts as Parquet files, imported
only when asked for). Machine formats (JSON, JUnit, GitHub
annotations) keep exact values, escaped only as their format requires.
"""
