"""Warehouse engines beyond DuckDB: the same dbt models on Spark (docs/scale-out.md)."""
