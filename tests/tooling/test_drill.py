"""``make drill`` (SPEC O1): a short game day end to end, and its fault shims and replication.

The drill runs in a subprocess exactly as ``make drill`` runs it (``python -m drill``), with
``--quick`` (fewer simulated seconds of traffic, 10 s health checks, 2 s ticks).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from drill.emulator import serve
from drill.faults import KIND_ERROR, KIND_OUTAGE, KIND_THROTTLE, FaultInjector
from drill.replication import GlobalTableReplicator

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMELINE_ORDER = [
    "OUTAGE",
    "detection",
    "lock taken",
    "fencing",
    "promotion started",
    "promotion complete",
    "activation",
    "first write in secondary",
]


def _drill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drill", "--quick", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )


@pytest.fixture(scope="module")
def drill_run() -> subprocess.CompletedProcess[str]:
    return _drill()


def _line(output: str, label: str) -> str:
    return next(line.strip() for line in output.splitlines() if line.strip().startswith(label))


def test_drill_passes_with_zero_lost_and_zero_duplicated(drill_run):
    assert drill_run.returncode == 0, drill_run.stdout[-3000:] + drill_run.stderr[-2000:]
    out = drill_run.stdout
    assert re.search(r"^  orders lost +0$", out, re.MULTILINE)
    assert re.search(r"^  orders duplicated +0$", out, re.MULTILINE)
    assert re.search(r"^  writes accepted fenced +0$", out, re.MULTILINE)
    assert "[FAIL]" not in out
    assert out.count("[PASS]") == 13
    assert out.rstrip().endswith("drill: passed")


def test_timeline_runs_detection_lock_fencing_promotion_activation_first_write(drill_run):
    labels = [
        m.group(1).strip()
        for m in re.finditer(r"^  T[ +-]+\d+\.\ds  (.{30})", drill_run.stdout, re.MULTILINE)
    ]
    outage = labels.index("OUTAGE")
    assert "orchestrator: refused" in labels[:outage]  # the flapping alarm, before the outage
    after = labels[outage:]
    positions = [after.index(label) for label in TIMELINE_ORDER]
    assert positions == sorted(positions)
    assert labels.index("orchestrator: completed") > labels.index("activation")
    assert "orchestrator: noop" in labels  # the post-recovery sweep


def test_output_says_what_is_emulated_and_names_the_fixture_as_the_plan(drill_run):
    out = drill_run.stdout
    assert out.startswith("What is emulated (nothing here touches AWS):")
    assert "moto 5.2.5 server on http://127.0.0.1:" in out
    assert (
        "trading-dev-aurora-global: writer trading-dev-aurora-use1 (us-east-1), "
        "member trading-dev-aurora-use2" in out
    )
    assert "trading-dev-orders in us-east-1 and us-east-2" in out


def test_faults_were_injected_and_absorbed(drill_run):
    out = drill_run.stdout
    assert "fault injected                 throttle: dynamodb UpdateItem in us-east-2" in out
    assert "fault injected                 error: rds FailoverGlobalCluster in us-east-2" in out
    assert (
        "exactly one promotion, by FailoverGlobalCluster with AllowDataLoss: "
        "[('FailoverGlobalCluster', True)]" in out
    )
    assert _line(out, "orchestrator outcomes") == (
        "orchestrator outcomes    ['refused', 'completed', 'noop']; "
        "SNS reports ['refused', 'completed', 'noop']; dead letters 0"
    )


def test_a_broken_invariant_exits_non_zero():
    """Skipping the runbook's post-recovery sweep leaves the old primary's last orders unsettled."""
    result = _drill("--no-sweep")
    assert result.returncode == 1
    assert "[FAIL] no accepted order lost" in result.stdout
    assert "drill: FAILED: 3 invariant(s) broken" in result.stdout


def test_writes_while_the_fence_is_up_are_attempted_and_refused(drill_run):
    """The well-behaved client waits out Retry-After; the impatient one must meet the fence."""
    out = drill_run.stdout
    line = _line(out, "[PASS] writes during the fence refused as failover_in_progress")
    refused, probes = map(
        int, re.findall(r"(\d+) of (\d+) direct writes to reachable regions while failing_over", line)[0]
    )
    assert probes >= 1
    assert refused == probes
    assert "us-east-2 failover_in_progress x" in _line(out, "writes refused (fenced)")


SABOTAGED_FENCE = """
import os, runpy, sys
sys.path[:0] = [os.getcwd(), sys.argv[1] + "/common", sys.argv[1] + "/api"]
import botocore.client
import order_api.logic as logic

real_fence_for = logic.fence_for

def fence_for(control, region):  # the API's read-side fence, without failover_in_progress
    fence = real_fence_for(control, region)
    return None if fence is not None and fence.reason == "failover_in_progress" else fence

logic.fence_for = fence_for
real_call = botocore.client.BaseClient._make_api_call

def call(self, operation, params):  # the transaction's control-record condition, dropped
    if operation == "TransactWriteItems":
        items = [i for i in params["TransactItems"] if "ConditionCheck" not in i]
        params = {**params, "TransactItems": items}
    return real_call(self, operation, params)

botocore.client.BaseClient._make_api_call = call
sys.argv = ["drill", "--quick"]
runpy.run_module("drill", run_name="__main__")
"""


def test_a_region_accepting_writes_while_fenced_fails_the_drill(tmp_path):
    """Break both fence layers of the real order API (in this process only): the drill must say so."""
    script = tmp_path / "sabotage.py"
    script.write_text(SABOTAGED_FENCE)
    result = subprocess.run(
        [sys.executable, str(script), str(REPO_ROOT / "projects" / "region" / "functions")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "[FAIL] no write accepted by a fenced region: drill-" in result.stdout
    assert "[FAIL] writes during the fence refused as failover_in_progress: 0 of " in result.stdout
    assert not re.search(r"^  writes accepted fenced +0$", result.stdout, re.MULTILINE)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the emulator process")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_stopped_drill_leaves_no_emulator_behind(signum):
    drill = subprocess.Popen(
        [sys.executable, "-m", "drill", "--quick"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    emulators: list[int] = []
    try:
        assert drill.stdout is not None
        for line in drill.stdout:
            if line.startswith("Fixture"):
                break
        emulators = _children(drill.pid)
        assert len(emulators) == 1
        drill.send_signal(signum)
        drill.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(emulators[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(emulators[0])
        assert drill.returncode in (128 + signum, 130, -signum)
    finally:
        drill.kill()
        drill.wait()
        for pid in emulators:  # a failing run must not leave its orphan behind either
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- the shims on their own ----------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint():
    server = serve()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _client(endpoint: str, service: str, region: str, faults: FaultInjector, attempts: int = 3):
    return faults.attach(
        boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="drill",
            aws_secret_access_key="drill",
            config=Config(retries={"mode": "standard", "max_attempts": attempts}),
        )
    )


def _table(client, name: str) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def test_one_throttle_is_absorbed_by_standard_retries(endpoint):
    faults = FaultInjector()
    ddb = _client(endpoint, "dynamodb", "us-east-1", faults)
    _table(ddb, "throttled")
    faults.throttle("dynamodb", "PutItem")
    ddb.put_item(TableName="throttled", Item={"pk": {"S": "a"}})
    assert [(h.kind, h.operation) for h in faults.hits] == [(KIND_THROTTLE, "PutItem")]
    assert ddb.get_item(TableName="throttled", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


@pytest.mark.parametrize(
    ("service", "operation", "call", "code"),
    [
        ("dynamodb", "ListTables", lambda c: c.list_tables(), "InternalFailure"),
        ("rds", "DescribeGlobalClusters", lambda c: c.describe_global_clusters(), "InternalFailure"),
    ],
)
def test_a_failing_call_beyond_the_retries_surfaces_its_code(endpoint, service, operation, call, code):
    faults = FaultInjector()
    # botocore's retries max_attempts counts retries: 2 means three calls in all.
    client = _client(endpoint, service, "us-east-2", faults, attempts=2)
    faults.fail(service, operation, times=3)
    with pytest.raises(ClientError) as error:
        call(client)
    assert error.value.response["Error"]["Code"] == code
    assert faults.count(KIND_ERROR) == 3


def test_a_region_outage_refuses_connections_until_restored(endpoint):
    faults = FaultInjector()
    east1 = _client(endpoint, "dynamodb", "us-east-1", faults, attempts=1)
    east2 = _client(endpoint, "dynamodb", "us-east-2", faults, attempts=1)
    faults.region_outage("us-east-1")
    with pytest.raises(EndpointConnectionError):
        east1.list_tables()
    east2.list_tables()  # the other region is unaffected
    assert faults.region_down("us-east-1") and not faults.region_down("us-east-2")
    faults.restore("us-east-1")
    east1.list_tables()
    assert faults.count(KIND_OUTAGE) == 2  # the call and its one retry


def test_replication_is_async_paused_by_an_outage_and_last_writer_wins(endpoint):
    faults = FaultInjector()
    ddb = {r: _client(endpoint, "dynamodb", r, faults) for r in ("us-east-1", "us-east-2")}
    streams = {r: _client(endpoint, "dynamodbstreams", r, faults) for r in ddb}
    for client in ddb.values():
        _table(client, "replicated")
    replicator = GlobalTableReplicator("replicated", ddb, streams, faults.region_down)
    replicator.start()

    def item(region: str, key: str):
        return (
            ddb[region]
            .get_item(TableName="replicated", Key={"pk": {"S": key}}, ConsistentRead=True)
            .get("Item")
        )

    ddb["us-east-1"].put_item(TableName="replicated", Item={"pk": {"S": "o1"}, "v": {"S": "east1"}})
    assert item("us-east-2", "o1") is None  # asynchronous: nothing before the pump
    replicator.pump()
    assert item("us-east-2", "o1") == {"pk": {"S": "o1"}, "v": {"S": "east1"}}

    faults.region_outage("us-east-1")
    ddb["us-east-2"].put_item(TableName="replicated", Item={"pk": {"S": "o2"}, "v": {"S": "east2"}})
    replicator.pump()
    faults.restore("us-east-1")
    ddb["us-east-1"].put_item(TableName="replicated", Item={"pk": {"S": "o1"}, "v": {"S": "late-east1"}})
    ddb["us-east-2"].put_item(TableName="replicated", Item={"pk": {"S": "o1"}, "v": {"S": "later-east2"}})
    replicator.pump()
    replicator.pump()  # nothing echoes back and forth
    for region in ddb:
        assert item(region, "o1") == {"pk": {"S": "o1"}, "v": {"S": "later-east2"}}
        assert item(region, "o2") == {"pk": {"S": "o2"}, "v": {"S": "east2"}}
    # east1's late write lost to east2's later one: it was never applied in us-east-2.
    assert replicator.replicated == {"us-east-1->us-east-2": 1, "us-east-2->us-east-1": 2}


def test_the_fixture_is_named_as_the_plan_names_it():
    """The drill's names are the names the real programs give the resources (plan of dev)."""
    from drill.game_day import Names
    from shared.plan.environment import plan_environment

    names = Names("dev", "us-east-1", "us-east-2")
    plans = {planned.project: plan for planned, plan, _ in plan_environment(REPO_ROOT, "dev").stacks}

    def inputs(project: str, type_: str, key: str) -> list[str]:
        return sorted(r["inputs"][key] for r in plans[project].resources if r["type"] == type_)

    assert inputs("trading-data", "aws:rds/globalCluster:GlobalCluster", "globalClusterIdentifier") == [
        names.global_cluster
    ]
    assert inputs("trading-data", "aws:rds/cluster:Cluster", "clusterIdentifier") == [
        names.cluster("us-east-1"),
        names.cluster("us-east-2"),
    ]
    assert inputs("trading-data", "aws:dynamodb/table:Table", "name") == [names.table]
    topics = inputs("trading-edge", "aws:sns/topic:Topic", "name")
    assert {names.topic("us-east-1"), names.topic("us-east-2")} <= set(topics)
    composites = inputs("trading-edge", "aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarmName")
    assert names.primary_down_alarm in composites


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--env", "Bad!"],
            "python -m drill: error: --env 'Bad!' is not an environment name (^[a-z][a-z0-9-]{1,11}$)",
        ),
        (["--env", "a--b"], "python -m drill: error: --env 'a--b' is not an environment name"),
        (
            ["--primary", "mars-1"],
            "python -m drill: error: --primary 'mars-1' is not a known region: one of ",
        ),
        (["--secondary", "us-east-1"], "python -m drill: error: --primary and --secondary must differ"),
    ],
)
def test_bad_drill_arguments_are_one_line_before_the_emulator_starts(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "drill", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(message)
    assert "Traceback" not in result.stderr


def test_an_emulator_that_cannot_start_is_one_line_with_its_cause(tmp_path):
    """moto missing (or broken) in the environment: the drill says why, without a traceback."""
    shadow = tmp_path / "moto"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('moto is broken here')\n")
    result = subprocess.run(
        [sys.executable, "-m", "drill", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "drill: the emulator (python -m drill.emulator) did not start: ImportError: moto is broken here"
    )
