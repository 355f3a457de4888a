"""What `kubectl war decode` prints, without click: the command (`cli/decode.py`) and
its quick path (`cli/quick.py`) both come here."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kubectl_war.errors import UsageError
from kubectl_war.identity import decode_name
from kubectl_war.render import kv_lines, to_json, write

#: `-o` values of `decode`; the first is the default.
OUTPUTS = ("text", "json")


def print_decoded(names: Sequence[str], group: str | None, output: str) -> None:
    """Print every reading of each name; raise the last unreadable name's error after
    printing the others (earlier errors are written to stderr)."""
    decoded = []
    errors = []
    for name in names:
        try:
            decoded.append((name, decode_name(name, group=group)))
        except UsageError as exc:
            errors.append(exc)
    if output == "json":
        docs = [
            {
                "name": name,
                "readings": [{"group": r.group, **r.identity.to_dict()} for r in readings],
            }
            for name, readings in decoded
        ]
        if docs:
            write(to_json(docs[0] if len(names) == 1 else docs))
    else:
        blocks = []
        for name, readings in decoded:
            many = len(readings) > 1
            head = [("Name", name)]
            if many:
                head.append(("Readings", f"{len(readings)} (pass --group to choose one)"))
            lines = kv_lines(head) if many else []
            for i, r in enumerate(readings, 1):
                pairs = [("Workload Group", r.group), ("Platform", r.identity.platform)]
                pairs += r.identity.fields()
                if many:
                    lines.append(f"Reading {i}:")
                    lines += kv_lines(pairs, indent=2)
                else:
                    lines += kv_lines(head + pairs)
            blocks.append("\n".join(lines) + "\n")
        write("\n".join(blocks))
    if errors:
        # Every readable name was printed; the first unreadable one decides the exit.
        if len(errors) > 1:
            sys.stdout.flush()
            for err in errors[:-1]:
                sys.stderr.write(f"error: {err.message}\n")
        raise errors[-1]
