"""Errors a person sees: what was wrong, where, and what to do."""


class IngestionError(RuntimeError):
    """A file that cannot be ingested as a whole (wrong format, wrong channel)."""

    def __init__(self, source_file: str, problem: str, hint: str = ""):
        self.source_file = source_file
        self.problem = problem
        self.hint = hint
        super().__init__(f"{source_file}: {problem}" + (f"\n  what to do: {hint}" if hint else ""))
