"""The --help text of imcore's Python scripts, from their module docstring."""


def description(doc):
    """The docstring without its usage paragraph: argparse prints its own."""
    return "\n\n".join(p for p in doc.split("\n\n") if not p.startswith("usage:"))
