"""Sweeps over many tasks (issue #18): ``sinkcheck sweep SPEC --out DIR`` and ``sinkcheck results DIR``.

- :mod:`.kinds`: the task kinds (``sinkdiag``: one Section 7 instance; ``trigger`` and ``dormant``:
  one training run), each with its parameters' rules and defaults and the function that runs it;
- :mod:`.spec`: reading and checking a SPEC (YAML or JSON) and expanding it into tasks;
- :mod:`.grid`: the grid of ``sinkcheck table`` and the report's Section 7 sample as sinkdiag tasks;
- :mod:`.views`: summary tables and plots from the database;
- :mod:`.resume`: the sweep itself (resume, counterexample files, export, views).

Tasks, their outcomes, the engine and the results database are ``sinkcheck.runtime``'s.
"""
