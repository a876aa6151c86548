"""Sweeps over many tasks (issue #18): ``sinkcheck sweep SPEC --out DIR`` and ``sinkcheck results DIR``.

- :mod:`.kinds`: the task kinds (``sinkdiag``: one Section 7 instance; ``trigger`` and ``dormant``:
  one training run), each with its parameters' rules and defaults and the function that runs it;
- :mod:`.tasks`: a task (kind, parameters, seed), its key and the seed derived from its parameters;
- :mod:`.spec`: reading and checking a SPEC (YAML or JSON) and expanding it into tasks;
- :mod:`.engine`: running tasks in-process or on Dask (a LocalCluster or an existing scheduler);
- :mod:`.db`: the SQLite results database of a sweep directory and its canonical export;
- :mod:`.views`: summary tables and plots from the database;
- :mod:`.run`: the sweep itself (resume, counterexample files, export, views).
"""
