"""A failed plan must not poison the next one in the same process (tests and `make plan` do this)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.planning import REPO

SCRIPT = textwrap.dedent(
    """
    import pulumi, pulumi_aws as aws
    from shared.plan.runner import plan_stack
    from tests.planning import PROJECTS, plan, stack_config

    def failing_program():
        provider = aws.Provider("p", region="us-east-1")
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(provider=provider))

        def boom(_):
            raise IndexError("boom inside an apply")

        aws.ec2.Subnet("s", vpc_id=vpc.id.apply(boom), cidr_block="10.0.0.0/24",
                       opts=pulumi.ResourceOptions(provider=provider))
        for i in range(10):
            aws.ec2.Subnet(f"s{i}", vpc_id=vpc.id, cidr_block="10.0.0.0/24",
                           opts=pulumi.ResourceOptions(provider=provider))

    try:
        plan_stack(PROJECTS / "data", stack_config("data", "dev"), program=failing_program)
    except IndexError as exc:
        print("first:", exc)
    second = plan("data", "dev")
    print("second:", len(second.resources))
    """
)


def test_a_failed_plan_does_not_hang_or_break_the_next_plan() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "first: boom inside an apply"
    assert lines[1].startswith("second: ")
    assert int(lines[1].split()[1]) > 50
    assert "Task was destroyed but it is pending" not in result.stderr
