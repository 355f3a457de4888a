"""What is declared once stays the one source: list's columns (`listing.COLUMNS`), the
`--proxy-status` kinds (`sidecars.kinds.KINDS`), the shared flag groups and the
options objects' base (`cli/base.py`). Pure: no server."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

import click
import pytest
from click.testing import CliRunner

from kubectl_war import listing
from kubectl_war.assess import Facts
from kubectl_war.cli import base
from kubectl_war.cli import options as opt
from kubectl_war.cli.delete import delete_cmd
from kubectl_war.cli.list_wars import list_cmd
from kubectl_war.complete import PROXY_STATUS_SOURCES
from kubectl_war.errors import UsageError
from kubectl_war.printers.labels import LabelColumns
from kubectl_war.sidecars import kinds, sources
from kubectl_war.war import War
from tests import factories as f

NOW = datetime(2024, 5, 16, 12, 0, tzinfo=timezone.utc)
NO_FACTS = Facts(None, None, None, None, None, None)

# ---- list's columns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("all_namespaces", "wide", "sidecar"), list(itertools.product([False, True], repeat=3))
)
def test_every_layout_has_a_cell_under_each_header(
    all_namespaces: bool, wide: bool, sidecar: bool
) -> None:
    labels = LabelColumns(("app",), show_all=True)
    layout = listing.Layout(all_namespaces, wide, sidecar, labels)
    war = War(f.ec2_war(labels={"app": "ratings"}))
    headers = layout.headers()
    row = layout.row(war, NO_FACTS, NOW)
    assert len(row) == len(headers)
    assert headers[-2:] == ["APP", "LABELS"]
    assert row[-2:] == ["ratings", "app=ratings"]
    assert dict(zip(headers, row))["NAME"] == war.name
    assert ("NAMESPACE" in headers, "ACCOUNT" in headers, "SIDECAR" in headers) == (
        all_namespaces,
        wide,
        sidecar,
    )
    assert ("ISTIOD" in headers) == (wide and sidecar)


def test_the_columns_show_in_their_declared_order() -> None:
    layout = listing.Layout(all_namespaces=True, wide=True, sidecar=True)
    assert layout.headers() == [c.header for c in listing.COLUMNS]
    assert listing.Layout().headers() == [c.header for c in listing.COLUMNS if not c.when]


def test_a_columns_condition_names_a_layout_attribute() -> None:
    fields = {"all_namespaces", "wide", "sidecar"}
    assert {w for c in listing.COLUMNS for w in c.when} <= fields
    assert len({c.header for c in listing.COLUMNS}) == len(listing.COLUMNS)


# ---- --proxy-status kinds ----------------------------------------------------------------


def test_every_kind_that_reads_names_an_opener_of_sources() -> None:
    for kind in kinds.KINDS:
        if kind.opener is not None:
            assert callable(getattr(sources, kind.opener)), kind.name
    assert [k.name for k in kinds.KINDS if k.opener is None] == [kinds.NONE]


@pytest.mark.parametrize(
    ("spec", "name"),
    [("auto", "auto"), ("istiod", "istiod"), ("file:/x", "file:"), ("-", "-"), ("none", "none")],
)
def test_a_spec_is_the_kind_that_matches_it(spec: str, name: str) -> None:
    kind = kinds.kind_of(spec)
    assert kind is not None and kind.name == name
    assert kinds.check(f" {spec} ") == spec


@pytest.mark.parametrize("spec", ["file:", "files:/x", "istiod2", ""])
def test_a_spec_no_kind_matches_is_a_usage_error_naming_every_form(spec: str) -> None:
    with pytest.raises(UsageError) as err:
        kinds.check(spec)
    assert err.value.message.endswith(", ".join(k.form for k in kinds.KINDS))


def test_help_completion_and_the_fleet_rule_come_from_the_kinds() -> None:
    help_text = kinds.help_text("auto")
    for kind in kinds.KINDS:
        assert kind.help in help_text
    assert "auto (istiod, then istioctl, then none)" in help_text
    assert list(PROXY_STATUS_SOURCES) == [
        (k.name, k.completion) for k in kinds.KINDS if k.completion is not None
    ]
    refused = [k.name for k in kinds.KINDS if kinds.fleet_refusal(k.form) is not None]
    assert refused == [k.name for k in kinds.KINDS if not k.fleet] == ["file:", "-"]


# ---- shared flag groups and the options base -----------------------------------------------


def _option_help(command: click.Command, name: str) -> str | None:
    found = [p for p in command.params if isinstance(p, click.Option) and name in p.opts]
    return found[0].help if found else None


@pytest.mark.parametrize(
    "flag", ["--disconnected", "--agent-unknown", "--older-than", "--outdated"]
)
def test_list_and_delete_share_each_agent_filter(flag: str) -> None:
    assert _option_help(list_cmd, flag) is not None
    assert _option_help(list_cmd, flag) == _option_help(delete_cmd, flag)


def test_delete_offers_no_connected_filter() -> None:
    assert _option_help(list_cmd, "--connected") is not None
    assert _option_help(delete_cmd, "--connected") is None


def test_the_agent_filters_reach_the_command_as_one_value() -> None:
    seen: list[Any] = []

    @click.command()
    @opt.agent_filter_options()
    def cmd(**flags: Any) -> None:
        seen.append(flags)

    result = CliRunner().invoke(cmd, ["--disconnected", "--older-than", "10m"])
    assert result.exit_code == 0, result.output
    assert seen == [{"agent": opt.AgentFilter(disconnected=True, older_than=600.0)}]


def test_given_names_only_the_flags_on_the_command_line() -> None:
    seen: list[frozenset[str]] = []

    @click.command()
    @click.option("--pause", default="1m")
    @click.option("--batch-size", type=int, default=1)
    @click.option("--yes", is_flag=True)
    def cmd(**flags: Any) -> None:
        seen.append(base.given())
        ctx = click.get_current_context()
        assert base.spelling(ctx, "batch_size") == "--batch-size"

    result = CliRunner().invoke(cmd, ["--batch-size", "1", "--yes"])
    assert result.exit_code == 0, result.output
    assert seen == [frozenset({"batch_size", "yes"})]


def test_execute_completes_then_validates_then_runs() -> None:
    calls: list[str] = []

    class Recorded(base.Options):
        def complete(self) -> None:
            calls.append("complete")

        def validate(self) -> None:
            calls.append("validate")

        def run(self) -> None:
            calls.append("run")

    base.execute(Recorded())
    assert calls == ["complete", "validate", "run"]
