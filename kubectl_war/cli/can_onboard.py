"""`kubectl war can-onboard`: would the OnboardingPolicies let this machine join, like
`kubectl auth can-i` for onboarding."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

import kubectl_war.kube
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli.base import Options, execute
from kubectl_war.cli.contexts import no_resources
from kubectl_war.errors import UsageError, WarError, quote_input
from kubectl_war.identity import Identity
from kubectl_war.jsondata import child
from kubectl_war.kube.config import Connection
from kubectl_war.notice import warn
from kubectl_war.onboarding.verdict import LIST_COLUMNS, admits_per_group, evaluate, no_effect
from kubectl_war.policy_reads import read_policies, trusted_issuers
from kubectl_war.render import Table, use_colour, write
from kubectl_war.snapshot import not_found
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube
    from kubectl_war.onboarding.verdict import Admits, Verdict
    from kubectl_war.policy_reads import PolicyRead

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@dataclass(frozen=True)
class IdentityFlags:
    """The identity flags as given (None: not given)."""

    aws_account: str | None = None
    aws_partition: str | None = None
    aws_region: str | None = None
    aws_zone: str | None = None
    ec2: bool = False
    ecs_cluster: str | None = None
    iam_role: str | None = None
    jwt_issuer: str | None = None
    jwt_subject: str | None = None
    jwt_attributes: tuple[str, ...] = ()
    like: str | None = None

    def kinds(self) -> list[str]:
        """Which identities the flags describe: any of `aws`, `jwt`, `like`."""
        aws = (self.aws_account, self.aws_partition, self.aws_region, self.aws_zone)
        out = []
        if any(v is not None for v in aws) or self.ec2 or self.ecs_cluster or self.iam_role:
            out.append("aws")
        if self.jwt_issuer is not None or self.jwt_subject is not None or self.jwt_attributes:
            out.append("jwt")
        if self.like is not None:
            out.append("like")
        return out

    def aws_identity(self) -> Identity:
        if self.aws_account is None:
            raise UsageError("an AWS identity needs --aws-account")
        if not _ACCOUNT.match(self.aws_account):
            raise UsageError(f"--aws-account {quote_input(self.aws_account)} is not 12 digits")
        partition = self.aws_partition or "aws"
        if partition not in _PARTITIONS:
            raise UsageError(f"--aws-partition must be one of {', '.join(_PARTITIONS)}")
        if self.ec2 == (self.ecs_cluster is not None):
            raise UsageError("an AWS identity needs exactly one of --ec2 or --ecs-cluster NAME")
        region = self.aws_region
        if region is None and self.aws_zone and self.aws_zone[-1:].isalpha():
            region = self.aws_zone[:-1]  # us-east-2b is in us-east-2
        return Identity(
            platform="ec2" if self.ec2 else "ecs",
            partition=partition,
            account=self.aws_account,
            region=region,
            zone=self.aws_zone,
            ecs_cluster=self.ecs_cluster,
            iam_role=self.iam_role,
        )

    def jwt_identity(self) -> Identity:
        if not self.jwt_issuer:
            raise UsageError("a JWT identity needs --jwt-issuer URL")
        attributes: dict[str, str] = {}
        for pair in self.jwt_attributes:
            name, eq, value = pair.partition("=")
            if not eq or not name:
                raise UsageError(f"--jwt-attribute {quote_input(pair)} is not NAME=VALUE")
            attributes[name] = value
        return Identity(
            platform="jwt", issuer=self.jwt_issuer, subject=self.jwt_subject, attributes=attributes
        )


@dataclass
class CanOnboardOptions(Options):
    """`can-onboard`'s flags: a verdict for one group, or the `--list` table."""

    kube: Connection
    group: str | None
    listing: bool
    output: str
    istio_namespace: str
    flags: IdentityFlags = field(default_factory=IdentityFlags)

    def complete(self) -> None:
        if self.listing and self.output == "text":
            self.output = "table"  # the list's text is a table

    def validate(self) -> None:
        kinds = self.flags.kinds()
        if self.listing:
            if self.group is not None or kinds:
                raise UsageError("--list takes no WORKLOADGROUP and no identity flags")
            return
        if self.kube.all_namespaces:
            raise UsageError("-A goes with --list; a verdict is for one namespace (-n)")
        if self.group is None:
            raise UsageError("name a WORKLOADGROUP, or give --list")
        if len(kinds) != 1:
            raise UsageError(
                "give one identity: AWS flags (--aws-account ...), JWT flags "
                "(--jwt-issuer ...) or --like WAR"
                + ("" if not kinds else f", not {' and '.join(kinds)} together")
            )
        if kinds == ["aws"]:
            self.flags.aws_identity()
        elif kinds == ["jwt"]:
            self.flags.jwt_identity()

    def identity(self, client: Kube) -> Identity:
        """The identity the flags name; `--like` reads it from a WAR in the cluster."""
        kinds = self.flags.kinds()
        if kinds == ["aws"]:
            return self.flags.aws_identity()
        if kinds == ["jwt"]:
            return self.flags.jwt_identity()
        return _like(client, self.flags.like or "")

    def run(self) -> None:
        client = kubectl_war.kube.Kube(self.kube)
        if self.listing:
            _run_list(self, client)
        else:
            _run_check(self, client)


def _like(client: Kube, ref: str) -> Identity:
    """The verified identity of the WAR `[NAMESPACE/]NAME` (a bare name is looked up in
    the namespace, then in every namespace)."""
    res = client.war_resource()
    namespace, _, name = ref.rpartition("/")
    obj = client.get(res, namespace or client.namespace, name)
    if obj is None and not namespace:
        found = client.list(res, None, field_selector=f"metadata.name={name}").items
        if len(found) > 1:
            where = ", ".join(str(o.get("metadata", {}).get("namespace")) for o in found)
            raise UsageError(f"--like {name}: a WAR of that name is in {where}: say NAMESPACE/NAME")
        obj = found[0] if found else None
    if obj is None:
        raise WarError(not_found(name))
    who = War(obj).identity
    if who.platform not in ("ec2", "ecs", "jwt"):
        raise WarError(
            f"WAR {name} has a {who.platform_label} identity: OnboardingPolicies match "
            "only aws (EC2, ECS) and jwt identities"
        )
    if who.platform == "jwt" and not who.issuer:
        raise WarError(f"WAR {name} carries no JWT issuer in spec.identity")
    return who


def _group_labels(client: Kube, namespace: str, group: str) -> dict[str, str] | None:
    """The WorkloadGroup's metadata.labels, None when it does not exist."""
    res = client.workloadgroup_resource()
    if res is None:
        raise WarError("the cluster does not serve networking.istio.io WorkloadGroups")
    obj = client.get(res, namespace, group)
    if obj is None:
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _trusted(opts: CanOnboardOptions, client: Kube, who: Identity) -> list[str] | None:
    """The control plane's JWT issuers, for a JWT identity; one warning when unreadable."""
    if who.platform != "jwt":
        return None
    issuers, why = trusted_issuers(client, opts.istio_namespace)
    if issuers is None:
        warn(
            f"cannot tell whether the control plane trusts issuer {who.issuer}: "
            f"its ControlPlane cannot be read ({why})"
        )
    return issuers


def _warn_malformed(read: PolicyRead) -> None:
    for bad in read.malformed:
        warn(f"OnboardingPolicy {bad.namespace}/{bad.name} skipped: {bad.problem}")


def _run_check(opts: CanOnboardOptions, client: Kube) -> None:
    namespace, group = client.namespace, opts.group or ""
    who = opts.identity(client)
    labels = _group_labels(client, namespace, group)
    read = read_policies(client, namespace, required=True)
    _warn_malformed(read)
    trusted = _trusted(opts, client, who)
    verdict = evaluate(
        namespace, group, labels, who, read.policies, trusted_issuers=trusted,
        malformed=read.malformed,
    )  # fmt: skip
    if not verdict.allowed and labels is not None:
        # Policies elsewhere that would select the group, when every namespace is readable.
        verdict.elsewhere = no_effect(namespace, labels, read_policies(client, None).policies)
    _write_verdict(verdict, opts.output)
    sys.stdout.flush()
    if not verdict.allowed:
        sys.exit(1)


def _write_verdict(verdict: Verdict, output: str) -> None:
    if output != "text":
        of.write_document(verdict.to_dict(), output, rows="rules")
        return
    admitting = verdict.admitting
    if verdict.allowed and admitting is not None:
        write(f"yes\nAdmitted by: {admitting.policy.name} (rule {admitting.rule.number})\n")
        return
    write("no\n" + "".join(f"  {line}\n" for line in verdict.reasons()))


def _run_list(opts: CanOnboardOptions, client: Kube) -> None:
    namespace = None if opts.kube.all_namespaces else client.namespace
    groups = _groups(client, namespace)
    read = read_policies(client, namespace, required=True)
    _warn_malformed(read)
    rows = admits_per_group(groups, read.policies)
    if opts.output != "table":
        doc = {"kind": "OnboardingAdmissionList", "items": [r.to_dict() for r in rows]}
        of.write_document(doc, opts.output)
    elif not rows:
        sys.stderr.write(no_resources([namespace]) + "\n")
    else:
        _write_list(rows, with_namespace=namespace is None)


def _groups(client: Kube, namespace: str | None) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, name, labels) of every WorkloadGroup, in namespace and name order."""
    res = client.workloadgroup_resource()
    if res is None:
        raise WarError("the cluster does not serve networking.istio.io WorkloadGroups")
    out = []
    for obj in client.list(res, namespace).items:
        meta = child(obj, "metadata")
        labels = child(meta, "labels")
        out.append(
            (
                str(meta.get("namespace") or ""),
                str(meta.get("name") or ""),
                {str(k): str(v) for k, v in labels.items()},
            )
        )
    return sorted(out, key=lambda g: (g[0], g[1]))


def _write_list(rows: list[Admits], *, with_namespace: bool) -> None:
    lead = ["NAMESPACE"] if with_namespace else []
    table = Table([*lead, *LIST_COLUMNS], colour=use_colour())
    table.write([[r.namespace] * with_namespace + r.cells() for r in rows])


@click.command("can-onboard")
@cf.kube_options
@click.argument("group", required=False, metavar="WORKLOADGROUP")
@click.option(
    "--list", "listing", is_flag=True, help="Per WorkloadGroup, the identities its policies admit."
)
@opt.flag_group(
    "flags",
    [
        click.option("--aws-account", metavar="ID", help="The AWS account (12 digits)."),
        click.option(
            "--aws-partition",
            metavar="NAME",
            help="The AWS partition (aws, aws-cn, aws-us-gov). Default: aws.",
        ),
        click.option(
            "--aws-region", metavar="REGION", help="The AWS region (default: the zone's)."
        ),
        click.option("--aws-zone", metavar="ZONE", help="The AWS availability zone."),
        click.option("--ec2", is_flag=True, help="An EC2 instance."),
        click.option("--ecs-cluster", metavar="NAME", help="An ECS task in this cluster."),
        click.option("--iam-role", metavar="NAME", help="The instance's or task's IAM role name."),
        click.option("--jwt-issuer", metavar="URL", help="A JWT identity: its token's issuer."),
        click.option("--jwt-subject", metavar="SUBJECT", help="The token's subject."),
        click.option(
            "--jwt-attribute",
            "jwt_attributes",
            multiple=True,
            metavar="NAME=VALUE",
            help="A token attribute; repeat for several.",
        ),
        click.option(
            "--like",
            metavar="[NAMESPACE/]WAR",
            help="The identity of an existing WAR (any namespace).",
        ),
    ],
    lambda **given: IdentityFlags(**{**given, "jwt_attributes": tuple(given["jwt_attributes"])}),
)
@click.option(
    "--istio-namespace",
    default="istio-system",
    show_default=True,
    metavar="NS",
    help="Where the ControlPlane (its trusted JWT issuers) lives.",
)
@of.output_option(("text", "json", "yaml"), templates=True)
def can_onboard_cmd(**flags: Any) -> None:
    """Check whether the OnboardingPolicies admit a workload into a WorkloadGroup.

    Like `kubectl auth can-i` for onboarding: prints yes and the policy and rule that
    admit the identity (exit 0), or no (exit 1) and, for each rule that selects the
    group, its nearest miss. A JWT issuer must also be one the ControlPlane trusts.
    Give the identity with the AWS flags, the JWT flags, or --like WAR. With --list,
    per WorkloadGroup, the identities its policies admit (<any>: any value).

    \b
    Examples:
      kubectl war can-onboard ratings -n bookinfo --aws-account 123456789012 --ec2
      kubectl war can-onboard ratings -n bookinfo --aws-account 123456789012 --ecs-cluster web
      kubectl war can-onboard gw -n onprem --jwt-issuer https://corp.example --jwt-attribute dc=1
      kubectl war can-onboard ratings -n bookinfo --like onprem/edge-gw-jwt-corp--vm101
      kubectl war can-onboard --list -A
    """
    execute(CanOnboardOptions(**flags))
