"""Errors a person sees: what was wrong, where, and what to do."""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters (terminal escape sequences in a header, NUL) shown as \\xNN, never sent raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class IngestionError(RuntimeError):
    """A file that cannot be ingested as a whole (wrong format, wrong channel)."""

    def __init__(self, source_file: str, problem: str, hint: str = ""):
        self.source_file = source_file
        self.problem = problem = printable(problem)
        self.hint = hint = printable(hint)
        super().__init__(f"{source_file}: {problem}" + (f"\n  what to do: {hint}" if hint else ""))
