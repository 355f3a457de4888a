"""The `--proxy-status` sources, each declared once (`KINDS`): how it is spelled, how
the flag's help and completion tell it, whether a fleet of contexts may use it, and
which function of `sidecars.sources` opens it.

Plain data with no imports beyond `errors`, so that flags, help and completion read it
without loading the readers. Parsing (`check`), the help text (`help_text`), completion
(`completions`) and the fleet rule (`fleet_refusal`) are all derived from `KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_war.errors import UsageError


@dataclass(frozen=True)
class SourceKind:
    """One kind of `--proxy-status SOURCE`.

    Attributes:
        name: how it is typed: a word (`istiod`), or a prefix ending in `:` that a value
            follows (`file:` for `file:PATH`).
        form: how messages show it (`file:PATH`).
        help: how `--proxy-status`'s help tells it; empty when the kind before tells it too.
        completion: what completion says of it; None: not offered.
        opener: the function of `sidecars.sources` that opens it, called with the value
            after the prefix and the `sources.Opening`; None: no source is read.
        fleet: whether `--contexts`/`--all-contexts` may use it (saved output is one
            cluster's proxies, so it may not).
        reads: whether it is a source itself, not a choice about sources (`auto`, `none`);
            the help tells the sources first.
        probed: whether `auto` tries it (in `KINDS` order).
    """

    name: str
    form: str
    help: str
    completion: str | None
    opener: str | None
    fleet: bool = True
    reads: bool = True
    probed: bool = False

    @property
    def takes_value(self) -> bool:
        return self.name.endswith(":")

    def matches(self, spec: str) -> bool:
        if self.takes_value:
            return spec.startswith(self.name) and len(spec) > len(self.name)
        return spec == self.name


AUTO = "auto"
NONE = "none"

#: Every source kind, in the order errors and completion list them.
KINDS: tuple[SourceKind, ...] = (
    SourceKind(
        AUTO,
        AUTO,
        "",  # told from the probed kinds: see `help_text`
        "istiod's debug endpoint, else istioctl",
        "open_auto",
        reads=False,
    ),
    SourceKind(
        "istiod",
        "istiod",
        "istiod (its /debug/syncz through the API server)",
        "istiod's /debug/syncz through the API server",
        "open_istiod",
        probed=True,
    ),
    SourceKind(
        "istioctl",
        "istioctl",
        "istioctl (istioctl proxy-status)",
        "run istioctl proxy-status",
        "open_istioctl",
        probed=True,
    ),
    SourceKind(
        "file:",
        "file:PATH",
        "file:PATH or - (saved output, text or JSON)",
        "read saved istioctl proxy-status output from a file",
        "open_file",
        fleet=False,
    ),
    SourceKind("-", "-", "", None, "open_stdin", fleet=False),
    SourceKind(NONE, NONE, "none", "do not look up sidecar status", None, reads=False),
)


def kind_of(spec: str) -> SourceKind | None:
    """The kind a (stripped) `--proxy-status` value is, or None."""
    for kind in KINDS:
        if kind.matches(spec):
            return kind
    return None


def check(spec: str) -> str:
    """The spec, stripped, or a UsageError naming the accepted forms."""
    text = spec.strip()
    if kind_of(text) is not None:
        return text
    forms = ", ".join(k.form for k in KINDS)
    raise UsageError(f"invalid --proxy-status {spec!r}: expected one of {forms}")


def _told() -> list[SourceKind]:
    """The kinds in the order help tells them: the sources, then the choices."""
    return [k for k in KINDS if k.reads] + [k for k in KINDS if not k.reads]


def help_text(default: str) -> str:
    """`--proxy-status`'s help; `default` tells what the command uses without the flag."""
    probed = ", then ".join(k.name for k in KINDS if k.probed)
    words = [
        k.help or f"{AUTO} ({probed}, then {NONE})" for k in _told() if k.help or k.name == AUTO
    ]
    return f"Where sidecar sync state comes from: {', '.join(words)}. Default: {default}."


def completions() -> list[tuple[str, str]]:
    """What completion offers: (value, description), a prefix for a kind that takes a value."""
    return [(k.name, k.completion) for k in KINDS if k.completion is not None]


def fleet_refusal(spec: str) -> str | None:
    """Why a fleet of contexts cannot use the source `spec`, or None when it can."""
    kind = kind_of(spec)
    if kind is None or kind.fleet:
        return None
    allowed = [k.name for k in _told() if k.fleet]
    return (
        f"--proxy-status {spec} holds one cluster's proxies: with --contexts or "
        f"--all-contexts use {', '.join(allowed[:-1])} or {allowed[-1]}"
    )
