"""The generic task engine: tasks, their seeds and keys, the results database, Dask."""
