"""`kubectl war list -w`: printing the list, then one entry per change, in the chosen
output format (a table row, a template's output, a name, a JSON or YAML document)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from kubectl_war import listing, sidecars
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.errors import WarError
from kubectl_war.render import Table, as_printed, to_json, to_kyaml, to_yaml, use_colour, write
from kubectl_war.war import RESOURCE_NAME, War

if TYPE_CHECKING:
    from kubectl_war.cli.list_read import Listed
    from kubectl_war.jsondata import JSON
    from kubectl_war.printers.labels import LabelColumns
    from kubectl_war.sidecars.records import ProxySync
    from kubectl_war.sidecars.sources import SidecarSource


def refetch(
    source: SidecarSource, previous: dict[str, ProxySync] | None
) -> dict[str, ProxySync] | None:
    """Fresh sync state for a watch line; the last known state if the source fails now."""
    try:
        return source.fetch()
    except sidecars.SidecarError:
        return previous


class Watcher:
    """Prints a watch: the list in one output format, then one entry per change."""

    def __init__(
        self,
        output: str,
        listed: Listed,
        labels: LabelColumns,
        *,
        no_headers: bool,
        events: bool,
        write_list: Callable[[], None],
    ):
        self.output = output
        self.listed = listed
        self.labels = labels
        self.no_headers = no_headers
        self.events = events
        self.write_list = write_list
        self.now = opt.now()
        self.header_pending = False
        self.table: Table | None = None
        self.layout = listing.Layout(
            all_namespaces=listed.namespace is None,
            wide=output == "wide",
            sidecar=listed.source is not None,
            labels=labels,
        )
        self.printer = of.printer(output, no_headers=no_headers)
        if output in ("table", "wide"):
            cols = self.layout.headers()
            if events:
                cols.insert(0, "EVENT")
            self.table = Table(cols, colour=use_colour())

    def _row(self, war: War, event: str) -> list[str]:
        cells = self.layout.row(war, self.listed.facts(war), self.now)
        if self.events:
            cells.insert(0, event)
        return cells

    def _object(self, war: War, event: str) -> JSON:
        """What a template printer is given for one change: the object, or with
        --output-watch-events the event (`type` and `object`), as kubectl gives it."""
        return {"type": event, "object": war.obj} if self.events else war.obj

    def initial(self) -> None:
        wars = self.listed.wars
        if self.printer is not None:
            try:
                self.printer.print_objects([self._object(w, "ADDED") for w in wars], sys.stdout)
            except WarError as exc:
                raise WarError(f"unable to output the provided object: {exc.message}") from None
            return
        if self.table is None:
            self.write_list()
            return
        # Like kubectl get -w: with nothing listed, the header waits for the first row.
        self.header_pending = not wars and not self.no_headers
        if wars:
            rows = [self._row(w, "ADDED") for w in wars]
            write(self.table.render(rows, headers=not self.no_headers))

    def change(self, event: str, war: War) -> None:
        self.now = opt.now()
        if self.table is not None:
            row = self._row(war, event)
            self.table.fit([row])
            if self.header_pending:
                write(self.table.format_row(self.table.headers, header=True) + "\n")
                self.header_pending = False
            write(self.table.format_row(row) + "\n")
        elif self.printer is not None:
            self.printer.print_objects([self._object(war, event)], sys.stdout)
        elif self.output == "name":
            write(f"{RESOURCE_NAME}/{war.name}\n")
        elif self.output == "json":
            write(to_json(war.obj))
        elif self.output == "yaml":
            write("---\n" + to_yaml(war.obj))
        elif self.output == "kyaml":
            write(to_kyaml(as_printed(war.obj)))
