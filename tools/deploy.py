#!/usr/bin/env python3
"""Deploy, preview and destroy the stacks of an environment through the Pulumi CLI (SPEC M2).

    python tools/deploy.py up|preview|destroy data|region|edge|all --env dev [--region us-east-1]

The make targets (``deploy-data``, ``preview-region``, ``destroy-all`` …) call this; it is a script
so that the refusals and the exact command lines are testable (tests/tooling/test_make_targets.py).

For every stack it runs, in this order (SPEC §4)::

    pulumi --cwd projects/<p> stack select --create <stack>
    pulumi --cwd projects/<p> --stack <stack> --non-interactive up --yes | preview | destroy --yes

Stacks: ``trading-data`` → ``<env>``, ``trading-region`` → ``<env>-<region>``, ``trading-edge`` →
``<env>``. ``all`` runs data → primary region → secondary region → edge for ``up`` and
``preview``, and the reverse for ``destroy``; it stops at the first failing command.

The environment's regions come from the committed ``projects/data/Pulumi.<env>.yaml`` (the data
stack is the single source of truth, SPEC §2); a region it does not name is refused, as is an
environment without a data stack file. Before anything runs it checks that the ``pulumi`` CLI is
on ``PATH`` and that ``PULUMI_CONFIG_PASSPHRASE`` (or ``PULUMI_CONFIG_PASSPHRASE_FILE``) is set;
``PULUMI_BACKEND_URL`` defaults to a local file backend in ``.pulumi-state/`` at the repository
root (created). ``destroy all`` refuses an environment whose data stack is protected
(``protectData``): it would take down edge and both regions and then stop at the data. Each
refusal is one line on stderr and exit status 2, before anything runs (``--check`` stops there:
make runs it before building the function archives); a failing pulumi command ends the run with
that command's status (128 + N for a signal), and later stacks do not run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from shared.errors import ConfigError  # noqa: E402
from shared.plan.stackfiles import StackFileError, load_stack_config  # noqa: E402
from shared.settings.base import ENVIRONMENT_PATTERN  # noqa: E402
from shared.settings.data import DataSettings  # noqa: E402

VERB_ARGS: dict[str, tuple[str, ...]] = {
    "up": ("up", "--yes"),
    "preview": ("preview",),
    "destroy": ("destroy", "--yes"),
}
PROJECT_DIRS: dict[str, str] = {
    "data": "projects/data",
    "region": "projects/region",
    "edge": "projects/edge",
}
DEFAULT_STATE_DIR = ".pulumi-state"
INSTALL_HINT = (
    "the Pulumi CLI ('pulumi') is not on PATH: install it with "
    "'curl -fsSL https://get.pulumi.com | sh' (see https://www.pulumi.com/docs/install/), "
    "then open a new shell"
)
PASSPHRASE_HINT = (
    "PULUMI_CONFIG_PASSPHRASE is not set: export the passphrase that protects this backend's "
    "stack secrets (or set PULUMI_CONFIG_PASSPHRASE_FILE)"
)
UNPROTECT_RUNBOOK = "docs/runbooks/per-region-rollout.md#tearing-down-a-protected-environment"


class Refused(Exception):
    """A precondition failed; the message is the one line the operator sees."""


@dataclass(frozen=True)
class Step:
    """One stack operation: the project folder (relative to the repository) and the stack."""

    project_dir: str
    stack: str

    def commands(self, verb: str, extra_args: Sequence[str] = ()) -> list[list[str]]:
        """The two CLI calls of SPEC §4 for this stack."""
        return [
            ["pulumi", "--cwd", self.project_dir, "stack", "select", "--create", self.stack],
            [
                "pulumi",
                "--cwd",
                self.project_dir,
                "--stack",
                self.stack,
                "--non-interactive",
                *VERB_ARGS[verb],
                *extra_args,
            ],
        ]


@dataclass(frozen=True)
class Environment:
    """What the committed data stack file says about an environment."""

    primary: str
    secondary: str
    protected: bool


def environment_regions(repo: Path, env: str) -> tuple[str, str]:
    """(primary, secondary) of ``env`` from the committed data stack file, validated."""
    found = read_environment(repo, env)
    return found.primary, found.secondary


def read_environment(repo: Path, env: str) -> Environment:
    """Regions and data protection of ``env`` from the committed data stack file, validated."""
    if not ENVIRONMENT_PATTERN.match(env):
        raise Refused(f"ENV={env!r} is not an environment name (^[a-z][a-z0-9-]{{1,11}}$)")
    data_dir = repo / PROJECT_DIRS["data"]
    if not (data_dir / f"Pulumi.{env}.yaml").exists():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in data_dir.glob("Pulumi.*.yaml"))
        known = [k for k in known if k]
        raise Refused(
            f"ENV={env!r} has no data stack file {PROJECT_DIRS['data']}/Pulumi.{env}.yaml; "
            f"environments: {', '.join(known) or 'none'}"
        )
    try:
        settings = DataSettings.parse(load_stack_config(data_dir, env).values, stack=env)
    except ConfigError as exc:
        raise Refused(f"{PROJECT_DIRS['data']}/Pulumi.{env}.yaml: {exc}") from None
    except StackFileError as exc:
        raise Refused(str(exc).replace(f"{repo}/", "")) from None
    return Environment(settings.primary_region, settings.secondary_region, settings.protected)


def plan_steps(repo: Path, verb: str, target: str, env: str, region: str | None) -> list[Step]:
    """The stack operations of one target, in the order they must run."""
    found = read_environment(repo, env)
    primary, secondary = found.primary, found.secondary
    if target == "data":
        return [Step(PROJECT_DIRS["data"], env)]
    if target == "edge":
        return [Step(PROJECT_DIRS["edge"], env)]
    if target == "region":
        if not region:
            raise Refused(f"REGION is required for ENV={env}: one of {primary}, {secondary}")
        if region not in (primary, secondary):
            raise Refused(
                f"REGION={region!r} is not a region of ENV={env} "
                f"(projects/data/Pulumi.{env}.yaml: primary {primary}, secondary {secondary})"
            )
        return [Step(PROJECT_DIRS["region"], f"{env}-{region}")]
    if region:
        raise Refused(f"REGION={region!r} does not apply to '{target}': it runs every region of ENV={env}")
    if verb == "destroy" and found.protected:
        # Pulumi would remove edge and both regions (the serving path) and only then stop at the
        # protected data: refuse before anything is destroyed.
        raise Refused(
            f"ENV={env} protects its data (trading-data:protectData): destroy-all would remove edge "
            f"and both regions and then stop at the protected data stack; unprotect first "
            f"({UNPROTECT_RUNBOOK}) or destroy the stacks one by one"
        )
    steps = [
        Step(PROJECT_DIRS["data"], env),
        Step(PROJECT_DIRS["region"], f"{env}-{primary}"),
        Step(PROJECT_DIRS["region"], f"{env}-{secondary}"),
        Step(PROJECT_DIRS["edge"], env),
    ]
    return list(reversed(steps)) if verb == "destroy" else steps


def pulumi_environment(repo: Path, environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """The environment for the CLI (backend defaulted) and a note on where state lives."""
    env = dict(environ)
    if "PULUMI_CONFIG_PASSPHRASE" not in env and not env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        raise Refused(PASSPHRASE_HINT)
    passphrase_file = env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if "PULUMI_CONFIG_PASSPHRASE" not in env and passphrase_file and not os.path.isfile(passphrase_file):
        raise Refused(f"PULUMI_CONFIG_PASSPHRASE_FILE={passphrase_file!r} is not a readable file")
    if env.get("PULUMI_BACKEND_URL"):
        return env, f"backend {env['PULUMI_BACKEND_URL']} (PULUMI_BACKEND_URL)"
    state = repo / DEFAULT_STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    env["PULUMI_BACKEND_URL"] = state.resolve().as_uri()
    return env, f"backend {env['PULUMI_BACKEND_URL']} (default; set PULUMI_BACKEND_URL for another)"


Runner = Callable[[list[str], Mapping[str, str], Path], int]


def _run(argv: list[str], env: Mapping[str, str], cwd: Path) -> int:
    # argv is built from the fixed verbs above and validated stack names, never from free text.
    return subprocess.call(argv, env=dict(env), cwd=cwd)  # noqa: S603


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    repo: Path = REPO_ROOT,
    run: Runner = _run,
) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("verb", choices=sorted(VERB_ARGS))
    parser.add_argument("target", choices=[*PROJECT_DIRS, "all"])
    parser.add_argument("--env", required=True)
    parser.add_argument("--region", default="")
    parser.add_argument("--pulumi-args", default="", help="extra arguments for the verb (shell words)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only the refusals (make runs this before building the function archives)",
    )
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        steps = plan_steps(repo, args.verb, args.target, args.env, args.region or None)
        extra = _extra_args(args.pulumi_args)
        if shutil.which("pulumi", path=environ.get("PATH", "")) is None:
            raise Refused(INSTALL_HINT)
        env, note = pulumi_environment(repo, environ)
    except Refused as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return 0
    print(f"deploy: {note}", flush=True)
    if args.verb == "destroy" and args.target == "data" and read_environment(repo, args.env).protected:
        print(
            f"deploy: ENV={args.env} protects its data (trading-data:protectData): pulumi refuses to "
            f"delete the protected resources; to tear it down see {UNPROTECT_RUNBOOK}",
            flush=True,
        )
    for step in steps:
        for command in step.commands(args.verb, extra):
            print(f"+ {shlex.join(command)}", flush=True)
            try:
                status = run(command, env, repo)
            except KeyboardInterrupt:
                print(f"deploy: interrupted: {shlex.join(command)}", file=sys.stderr)
                return 130
            if status != 0:
                # A command killed by a signal reports -N; the shell convention is 128 + N.
                status = 128 - status if status < 0 else status
                print(f"deploy: failed ({status}): {shlex.join(command)}", file=sys.stderr)
                return status
    return 0


def _extra_args(text: str) -> list[str]:
    try:
        extra = shlex.split(text)
    except ValueError as exc:
        raise Refused(f"PULUMI_ARGS={text!r} is not valid shell words: {exc}") from None
    # The stack and project folder are the target's; another one would deploy the wrong stack.
    owned = [a for a in extra if a.split("=", 1)[0] in ("--stack", "-s", "--cwd", "-C")]
    if owned:
        raise Refused(f"PULUMI_ARGS must not set {owned[0].split('=', 1)[0]}: the target chooses the stack")
    return extra


if __name__ == "__main__":
    sys.exit(main())
