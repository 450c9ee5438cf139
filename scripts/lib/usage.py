"""Command-line errors of imcore's Python scripts, one convention for all:
a usage error is one line on stderr, "PROG: MESSAGE (see PROG --help)", and
exit status 2; a failure is one line and exit status 1; never a traceback
for something the user typed."""
import json
import re
import sys


def usage_error(prog, msg):
    print(f"{prog}: {msg} (see {prog} --help)", file=sys.stderr)
    sys.exit(2)


def fail(prog, msg):
    print(f"{prog}: {msg}", file=sys.stderr)
    sys.exit(1)


def one_line(ap, prog):
    """argparse's own errors (unknown option, bad number) as one line, exit 2."""
    ap.error = lambda msg: usage_error(prog, msg)
    return ap


def regex(prog, option, text):
    """A compiled Python regex, or a usage error naming the option."""
    try:
        return re.compile(text)
    except re.error as e:
        usage_error(prog, f"{option}: '{text}' is not a regular expression ({e})")


def json_file(prog, path, what="file"):
    """A JSON document from path, or a usage error: missing, unreadable or not JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        usage_error(prog, f"cannot read {what} '{path}': {e.strerror}")
    except (ValueError, UnicodeDecodeError) as e:
        usage_error(prog, f"'{path}' is not a JSON {what} ({e})")
