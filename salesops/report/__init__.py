"""The monthly sales report: HTML (self-contained, offline) or PDF, in English or Chinese.

``salesops report --month YYYY-MM [--lang en|zh] [--edition sales|finance] [--format html|pdf]``
writes ``$SALESOPS_HOME/reports/<month>/report-<edition>-<lang>.<format>`` (docs/reports.md).
``data`` reads the marts, ``charts`` draws, ``build`` lays out and writes.
"""


class ReportError(Exception):
    """A report that cannot be written, said for a person (no traceback)."""
