"""Test tooling run by hand or by bench/: `fuzz` (the fuzz property, for as long as asked) and
`measure` (one command's exit code, output, wall and CPU time, peak RSS)."""
