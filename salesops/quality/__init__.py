"""Data quality gates with Great Expectations 1.x.

``suites`` declares what is checked (plain data, cheap to import); ``runner`` turns
those declarations into a GX ephemeral context, Postgres datasource, suites, validation
definitions and a checkpoint, and runs it; ``gates`` are what the transform DAG's
tasks call: the raw gate before dbt, the marts gate after it. GX itself is imported
only inside ``runner`` functions (it costs seconds and hundreds of MB).
"""
