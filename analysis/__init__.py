"""Reading a store and drawing it: the report's data (data.py), its figures (plots.py) and the
report itself (report.py). Used by `select report` and by the notebooks in notebooks/.

Reads the store only (the Parquet shards through DuckDB views, see selector/store/), so a
report can be made on any machine from copied shards. Every derived number comes from a view of
the store or from selector/score.py; this package only selects and draws.
"""
