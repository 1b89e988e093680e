"""``make drill``: a game day — lose the primary region and let the real orchestrator recover.

Runs against moto's server, started here as a child process on 127.0.0.1 with the
:mod:`drill.emulator` extension. The fixture is the drill's minimal slice of an environment,
named as the plan names it (``shared.naming.physical_name``): the Aurora global cluster and its
two members, the orders table in both regions, an SNS topic per region, the control record.

Scenario (simulated time; :class:`drill.clock.SimulatedClock`, so waits cost no wall time):

1. steady state: a client places orders through DNS (the primary); the primary's processor
   settles them;
2. a flapping primary-down alarm while the primary is healthy: the orchestrator must refuse;
3. the primary region goes down (client-side connection errors and service-side unavailability)
   right after a burst of orders that has not replicated yet;
4. detection by the drill's health checks and alarms → the primary-down composite invokes the
   **real** orchestrator (``projects/edge/functions/failover``) with the alarm-action event,
   while faults are injected into its calls (a throttled lock write, a failing
   ``FailoverGlobalCluster``);
5. the client follows DNS to the secondary; writes are refused while fenced, then accepted;
   while the fence is up an impatient client ignores Retry-After and writes to every
   reachable region (each must be refused: the well-behaved client never meets the fence);
6. the primary comes back: its unreplicated orders replicate, a client with stale DNS writes to
   it and is refused; the orchestrator is invoked once more (runbook: the post-recovery sweep)
   and hands the old primary's unsettled orders to the secondary's processor;
7. invariants: no accepted order lost or duplicated, no write accepted by a fenced region, one
   promotion, the flapping alarm changed nothing. Exit status 1 when any breaks.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from drill.clock import SimulatedClock  # noqa: E402
from drill.faults import KIND_ERROR, KIND_OUTAGE, KIND_THROTTLE, FaultInjector  # noqa: E402
from drill.regional import EmulatedAurora, Regions, add_function_paths  # noqa: E402
from drill.replication import GlobalTableReplicator, stream_reader  # noqa: E402
from shared.naming import physical_name  # noqa: E402
from shared.regions import REGION_CODES  # noqa: E402
from shared.settings.base import ENVIRONMENT_PATTERN  # noqa: E402

ORCHESTRATOR_DIR = REPO_ROOT / "projects" / "edge" / "functions" / "failover"
ENGINE_VERSION = "16.6"
INITIAL_EPOCH = 1

EMULATED = """\
What is emulated (nothing here touches AWS):
  AWS APIs        moto {moto} server on {endpoint} (child process) + drill.emulator:
                  SwitchoverGlobalCluster / FailoverGlobalCluster, DescribeGlobalClusters by id
  global table    one moto table per region + drill.replication (stream-based, async one tick,
                  last writer wins, paused for a region that is down)
  Aurora          drill.regional.EmulatedAurora: in-memory ledger with the real unique key;
                  writer reachable only in the region holding the global writer
  Lambda          the real handlers (order API, ledger processor, failover orchestrator) called
                  in-process with Lambda events; async retries (2) emulated for the orchestrator
  health checks   Route 53 checks of /health/active (primary) and /health (secondary) every
  + alarms        {interval} s, threshold {threshold}; primary-down composite = primary check
                  unhealthy OR secondary canary ({canary} s) failing twice; DNS = failover records
  faults          drill.faults at botocore's before-send (inside the retry loop) and for HTTP
  time            simulated clock: sleeps advance it, one world tick per sleep
"""


# --- infrastructure -----------------------------------------------------------------------


@dataclass
class Emulator:
    """moto's server in a child process."""

    process: subprocess.Popen[str]
    endpoint: str

    @classmethod
    def start(cls, startup_seconds: float = 60.0) -> Emulator:
        errors = tempfile.TemporaryFile(mode="w+")  # read only if the start fails
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "drill.emulator",
                "--port",
                "0",
                "--describes-until-complete",
                "3",
                "--exit-with-stdin",
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert process.stdout is not None
        ready = select.select([process.stdout], [], [], startup_seconds)[0]
        line = process.stdout.readline().strip() if ready else ""
        if "listening on " not in line:
            process.kill()
            process.wait()
            errors.seek(0)
            cause = (errors.read().strip().splitlines() or [f"no answer within {startup_seconds:.0f} s"])[-1]
            raise SystemExit(f"drill: the emulator (python -m drill.emulator) did not start: {cause}")
        errors.close()
        return cls(process, line.rsplit(" ", 1)[-1])

    def control(self, path: str, method: str = "POST") -> Any:
        request = urllib.request.Request(f"{self.endpoint}/_drill/{path}", method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - local emulator
            return json.load(answer)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Names:
    """Physical names, as the plan names them."""

    environment: str
    primary: str
    secondary: str

    @property
    def global_cluster(self) -> str:
        return physical_name(self.environment, "aurora-global", service="rds")

    def cluster(self, region: str) -> str:
        return physical_name(self.environment, "aurora", region=region, service="rds")

    @property
    def table(self) -> str:
        return physical_name(self.environment, "orders", service="dynamodb")

    def topic(self, region: str) -> str:
        return physical_name(self.environment, "ops", region=region, service="sns")

    @property
    def primary_down_alarm(self) -> str:
        return physical_name(self.environment, "primary-down", region=self.secondary, service="alarm")

    def health_url(self, region: str) -> str:
        return f"https://drill.execute-api.{region}.amazonaws.com/{self.environment}/health"


# --- the timeline -------------------------------------------------------------------------


@dataclass
class Timeline:
    clock: SimulatedClock
    entries: list[tuple[float, str, str]] = field(default_factory=list)
    zero: float | None = None

    def add(self, label: str, detail: str = "") -> None:
        self.entries.append((self.clock.now(), label, detail))

    def first(self, label: str) -> float | None:
        return next((t for t, name, _ in self.entries if name == label), None)

    def render(self) -> list[str]:
        zero = self.zero if self.zero is not None else self.clock.start
        return [f"  T{t - zero:+7.1f}s  {label:<30} {detail}" for t, label, detail in self.entries]


def observe_orchestrator(client: Any, timeline: Timeline, secondary_arn: str) -> None:
    """Put the orchestrator's effective calls on the timeline (after botocore's retries)."""
    seen: set[str] = set()

    def stash(params: Any, context: Any, **_: Any) -> None:
        context["drill_params"] = dict(params)

    def after(event_name: str, parsed: Any, context: Any, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        params = context.get("drill_params", {})
        if operation == "UpdateItem":
            update = str(params.get("UpdateExpression", ""))
            if update.startswith("SET lock_owner"):
                timeline.add("lock taken", f"control record, epoch {_epoch(params)}")
            elif ":failing" in update:
                timeline.add("fencing", "state = failing_over: every region refuses writes")
            elif "active_region" in update:
                region = params["ExpressionAttributeValues"][":region"]["S"]
                nxt = params["ExpressionAttributeValues"][":next"]["N"]
                timeline.add("activation", f"active_region = {region}, epoch {nxt}")
            elif "origin_region = :new" in update:
                timeline.add("hand-over", f"order {params['Key']['pk']['S'].removeprefix('ORDER#')}")
        elif operation in ("FailoverGlobalCluster", "SwitchoverGlobalCluster"):
            timeline.add("promotion started", f"{operation} -> {params.get('TargetDbClusterIdentifier')}")
        elif operation == "DescribeGlobalClusters" and "writer" not in seen:
            cluster = (parsed.get("GlobalClusters") or [{}])[0]
            writer = next(
                (m["DBClusterArn"] for m in cluster.get("GlobalClusterMembers", []) if m["IsWriter"]), ""
            )
            if writer == secondary_arn and cluster.get("Status") == "available":
                seen.add("writer")
                timeline.add("promotion complete", f"writer {writer}")

    client.meta.events.register("before-parameter-build", stash)
    client.meta.events.register("after-call", after)


def _epoch(params: dict[str, Any]) -> str:
    return str(params.get("ExpressionAttributeValues", {}).get(":epoch", {}).get("N", "?"))


# --- the world ----------------------------------------------------------------------------


@dataclass
class Accepted:
    order_id: str
    region: str
    at: float
    status: int


class World:
    """Regions, replication, processors, health checks, DNS and a client placing orders."""

    def __init__(self, args: argparse.Namespace, emulator: Emulator) -> None:
        import boto3

        self.args = args
        self.emulator = emulator
        self.clock = SimulatedClock()
        self.timeline = Timeline(self.clock)
        self.faults = FaultInjector()
        self.names = Names(args.env, args.primary, args.secondary)
        self.regions_list = [args.primary, args.secondary]
        self.session = boto3.session.Session()

        def client(service: str, region: str, config: Any = None) -> Any:
            return self.faults.attach(self.session.client(service, region_name=region, config=config))

        from botocore.config import Config

        # The regional functions' own client settings (trading_runtime.aws.CLIENT_CONFIG).
        add_function_paths()
        from trading_runtime.aws import CLIENT_CONFIG as FUNCTION_CONFIG

        tooling = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=10)
        self.client = client
        self.ddb = {r: client("dynamodb", r, tooling) for r in self.regions_list}
        self.streams = {r: client("dynamodbstreams", r, tooling) for r in self.regions_list}
        self.rds = {r: client("rds", r, tooling) for r in self.regions_list}
        self.sns = {r: client("sns", r, tooling) for r in self.regions_list}
        self.sqs = client("sqs", args.secondary, tooling)
        self.function_clients = {
            r: {"dynamodb": client("dynamodb", r, FUNCTION_CONFIG)} for r in self.regions_list
        }
        self.cluster_arns: dict[str, str] = {}
        self.topic_arns: dict[str, str] = {}
        self.accepted: dict[str, Accepted] = {}
        self.refused: Counter[tuple[str, str]] = Counter()
        self.unreachable = 0
        self.last_retry_after = 1
        self.pending: deque[str] = deque()
        self.fence_probes: list[str] = []
        self.fenced_accepts: list[str] = []
        self.fence_probes_refused = 0
        self.next_order = 0
        self.check_failures = {r: 0 for r in self.regions_list}
        self.check_healthy = {r: True for r in self.regions_list}
        self.canary_failures = 0
        self.primary_down_alarm = False
        self.orchestrator_queue: deque[dict[str, Any]] = deque()
        self.processor_retry: dict[str, list[dict[str, Any]]] = {r: [] for r in self.regions_list}
        self.last_check = -1e9
        self.last_canary = -1e9
        self.traffic = True
        self.retry_at = 0.0  # the client honours Retry-After (and backs off when unreachable)
        self.faults.on_hit = lambda hit: (
            self.timeline.add("fault injected", f"{hit.kind}: {hit.service} {hit.operation} in {hit.region}")
            if hit.kind != KIND_OUTAGE
            else None
        )

    # -- fixture ---------------------------------------------------------------------------
    def create_fixture(self) -> None:
        from trading_runtime.dynamo import orders_table_request  # on the path since __init__

        n = self.names
        primary, secondary = self.regions_list
        self.rds[primary].create_global_cluster(
            GlobalClusterIdentifier=n.global_cluster, Engine="aurora-postgresql", EngineVersion=ENGINE_VERSION
        )
        self.cluster_arns[primary] = self.rds[primary].create_db_cluster(
            DBClusterIdentifier=n.cluster(primary),
            Engine="aurora-postgresql",
            EngineVersion=ENGINE_VERSION,
            GlobalClusterIdentifier=n.global_cluster,
            MasterUsername="trading_admin",
            MasterUserPassword="drill-only-password",  # the emulator's; never a real secret
            DatabaseName="trading",
            StorageEncrypted=True,
        )["DBCluster"]["DBClusterArn"]
        self.cluster_arns[secondary] = self.rds[secondary].create_db_cluster(
            DBClusterIdentifier=n.cluster(secondary),
            Engine="aurora-postgresql",
            EngineVersion=ENGINE_VERSION,
            GlobalClusterIdentifier=n.global_cluster,
            StorageEncrypted=True,
        )["DBCluster"]["DBClusterArn"]
        for region in self.regions_list:
            self.ddb[region].create_table(**orders_table_request(n.table))
            self.topic_arns[region] = self.sns[region].create_topic(Name=n.topic(region))["TopicArn"]
        queue_url = self.sqs.create_queue(
            QueueName=physical_name(n.environment, "drill-reports", service="sqs")
        )["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns[secondary].subscribe(TopicArn=self.topic_arns[secondary], Protocol="sqs", Endpoint=queue_arn)
        self.report_queue = queue_url
        # The control record is written once, in the primary; replication carries it over.
        self.ddb[primary].put_item(
            TableName=n.table,
            Item={
                "pk": {"S": "CONTROL"},
                "sk": {"S": "CONTROL"},
                "active_region": {"S": primary},
                "state": {"S": "active"},
                "epoch": {"N": str(INITIAL_EPOCH)},
            },
        )
        self.aurora = EmulatedAurora(
            control_url=self.emulator.endpoint,
            global_cluster_id=n.global_cluster,
            cluster_arns=self.cluster_arns,
            region_down=self.faults.region_down,
        )
        self.replicator = GlobalTableReplicator(n.table, self.ddb, self.streams, self.faults.region_down)
        self.replicator.start()
        self.processor_streams = {
            r: stream_reader(
                self.streams[r], self.ddb[r].describe_table(TableName=n.table)["Table"]["LatestStreamArn"]
            )
            for r in self.regions_list
        }
        self.functions = Regions(
            environment=n.environment, table_name=n.table, clients=self.function_clients, aurora=self.aurora
        )
        self.replicator.pump()

    # -- one tick of the world -------------------------------------------------------------
    def tick(self, seconds: float) -> None:
        """What happens in the world while ``seconds`` pass (called on every sleep)."""
        self.replicator.pump()
        for region in self.regions_list:
            self._run_processor(region)
        self._health_checks()
        if self.traffic:
            for _ in range(self.args.orders_per_tick):
                self.pending.append(self._new_client_order_id())
        if self.clock.now() >= self.retry_at:
            self._send_pending()
        self._probe_fence()

    def _probe_fence(self) -> None:
        """While the orchestrator's fence is up (between its ``failing_over`` write and its
        activation), an impatient client ignores Retry-After and writes to every reachable
        region once per tick: the order API must refuse each (``failover_in_progress``). The
        well-behaved client above waits out its Retry-After and would never test the fence."""
        if self.timeline.first("fencing") is None or self.timeline.first("activation") is not None:
            return
        for region in self.regions_list:
            if not self.faults.region_down(region):
                cid = self._new_client_order_id()
                self.fence_probes.append(cid)
                before = self.refused[(region, "failover_in_progress")]
                result = self.place(region, cid)
                if result == "accepted":
                    self.fenced_accepts.append(cid)  # whatever the clock says: the fence was up
                else:
                    if self.refused[(region, "failover_in_progress")] > before:
                        self.fence_probes_refused += 1
                    self.pending.append(cid)  # it retries later like any client

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass, one world tick per ``--tick`` seconds."""
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.sleep(self.args.tick)
            self._drain_orchestrator()

    def _new_client_order_id(self) -> str:
        self.next_order += 1
        return f"drill-{self.next_order:05d}"

    def order_body(self, client_order_id: str) -> dict[str, Any]:
        number = int(client_order_id.rsplit("-", 1)[-1])
        return {
            "client_order_id": client_order_id,
            "symbol": "AAPL" if number % 2 else "MSFT",
            "side": "BUY" if number % 3 else "SELL",
            "quantity": 10 + number % 7,
            "limit_price": f"{150 + number % 11}.25",
        }

    def place(self, region: str, client_order_id: str) -> str:
        """POST one order to ``region``: ``accepted`` | ``refused`` | ``unreachable``."""
        if self.faults.region_down(region):
            self.faults.record_unreachable("apigateway", "POST /orders", region)
            self.unreachable += 1
            return "unreachable"
        answer = self.functions.call_api(region, "POST", "/orders", self.order_body(client_order_id))
        if answer.status in (200, 201):
            first = client_order_id not in self.accepted
            if first:
                self.accepted[client_order_id] = Accepted(
                    answer.body["order_id"], region, self.clock.now(), answer.status
                )
                if region == self.args.secondary and self.timeline.first("first write in secondary") is None:
                    if self.timeline.first("activation") is not None:
                        self.timeline.add("first write in secondary", f"{client_order_id} -> 201")
            elif self.accepted[client_order_id].order_id != answer.body["order_id"]:
                self.accepted[client_order_id + "#dup"] = Accepted(
                    answer.body["order_id"], region, self.clock.now(), 0
                )
            return "accepted"
        if answer.status == 503:
            self.refused[(region, str(answer.body.get("error")))] += 1
            if "retry-after" not in answer.headers:
                raise AssertionError(f"503 without Retry-After from {region}: {answer.body}")
            self.last_retry_after = int(answer.headers["retry-after"])
            return "refused"
        raise AssertionError(f"unexpected answer {answer.status} from {region}: {answer.body}")

    def _send_pending(self) -> None:
        region = self.resolve()
        still: deque[str] = deque()
        while self.pending:
            cid = self.pending.popleft()
            result = self.place(region, cid)
            if result != "accepted":
                still.append(cid)
                still.extend(self.pending)
                self.pending.clear()
                wait = min(self.last_retry_after, self.args.client_max_wait) if result == "refused" else 5
                self.retry_at = self.clock.now() + wait
        self.pending = still

    def resolve(self) -> str:
        """Route 53 failover records: the primary while its check is healthy."""
        primary, secondary = self.regions_list
        return primary if self.check_healthy[primary] else secondary

    def probe(self, region: str, path: str) -> tuple[bool, int | None, str | None]:
        if self.faults.region_down(region):
            self.faults.record_unreachable("apigateway", f"GET {path}", region)
            return False, None, "EndpointConnectionError: region unreachable (drill.faults outage)"
        answer = self.functions.call_api(region, "GET", path)
        return answer.status == 200, answer.status, None if answer.status == 200 else f"HTTP {answer.status}"

    def _health_checks(self) -> None:
        args = self.args
        primary, secondary = self.regions_list
        now = self.clock.now()
        if now - self.last_check >= args.check_interval:
            self.last_check = now
            for region, path in ((primary, "/health/active"), (secondary, "/health")):
                ok = self.probe(region, path)[0]
                self.check_failures[region] = 0 if ok else self.check_failures[region] + 1
                was = self.check_healthy[region]
                if not ok and self.check_failures[region] >= args.check_threshold:
                    self.check_healthy[region] = False
                elif ok:
                    self.check_healthy[region] = True
                if was and not self.check_healthy[region]:
                    self.timeline.add(
                        "health check unhealthy", f"{region} {path}: DNS answers the other region"
                    )
        if now - self.last_canary >= args.canary_interval:
            self.last_canary = now
            ok = self.probe(primary, "/health")[0]
            self.canary_failures = 0 if ok else self.canary_failures + 1
        down = not self.check_healthy[primary] or self.canary_failures >= 2
        if down and not self.primary_down_alarm:
            self.primary_down_alarm = True
            self.timeline.add("detection", f"{self.names.primary_down_alarm} ALARM (primary-down composite)")
            self.orchestrator_queue.append(
                self.alarm_event("ALARM", "primary unreachable from the secondary")
            )
        elif not down and self.primary_down_alarm:
            self.primary_down_alarm = False

    def alarm_event(self, state: str, reason: str) -> dict[str, Any]:
        """The CloudWatch alarm action's event for the primary-down composite."""
        arn = f"arn:aws:cloudwatch:{self.args.secondary}:123456789012:alarm:{self.names.primary_down_alarm}"
        return {
            "source": "aws.cloudwatch",
            "alarmArn": arn,
            "accountId": "123456789012",
            "region": self.args.secondary,
            "alarmData": {
                "alarmName": self.names.primary_down_alarm,
                "state": {"value": state, "reason": reason, "timestamp": "2026-01-01T00:00:00.000+0000"},
            },
        }

    def _run_processor(self, region: str) -> None:
        if self.faults.region_down(region):
            return
        stream = self.processor_streams[region]()
        mapping_filter = [r for r in stream if _origin(r) == region]  # the event source mapping filter
        batch = self.processor_retry[region] + [_lambda_record(r, region) for r in mapping_filter]
        if not batch:
            return
        failed = set(self.functions.process(region, batch))
        self.processor_retry[region] = [r for r in batch if r["dynamodb"]["SequenceNumber"] in failed]

    # -- the orchestrator ------------------------------------------------------------------
    def build_orchestrator(self) -> Any:
        if not (ORCHESTRATOR_DIR / "failover_orchestrator" / "__init__.py").exists():
            raise SystemExit(
                f"drill: the failover orchestrator is not in this checkout ({ORCHESTRATOR_DIR}); "
                "it is built on the edge branch (projects/edge/functions/failover)"
            )
        sys.path.insert(0, str(ORCHESTRATOR_DIR))
        from failover_orchestrator import Dependencies, Orchestrator, OrchestratorSettings, ProbeResult
        from failover_orchestrator.aws import CLIENT_CONFIG

        secondary = self.args.secondary
        settings = OrchestratorSettings(
            table_name=self.names.table,
            primary_region=self.args.primary,
            secondary_region=secondary,
            region=secondary,
            global_cluster_id=self.names.global_cluster,
            cluster_arns=dict(self.cluster_arns),
            health_urls={r: self.names.health_url(r) for r in self.regions_list},
            report_topic_arn=self.topic_arns[secondary],
            trigger_alarms=(self.names.primary_down_alarm,),
            failover_mode="automatic",
            environment=self.names.environment,
            probe_count=3,
            probe_interval_seconds=5.0,
            probe_timeout_seconds=5.0,
            wait_timeout_seconds=180.0,
            poll_interval_seconds=5.0,
            lock_ttl_seconds=900,
        )
        region_of = {self.names.health_url(r): r for r in self.regions_list}

        def probe(url: str, timeout: float) -> Any:
            ok, status, error = self.probe(region_of[url], "/health")
            return ProbeResult(url=url, ok=ok, status=status, error=error)

        dynamodb = self.client("dynamodb", secondary, CLIENT_CONFIG)
        rds = {r: self.client("rds", r, CLIENT_CONFIG) for r in self.regions_list}
        observe_orchestrator(dynamodb, self.timeline, self.cluster_arns[secondary])
        for client in rds.values():
            observe_orchestrator(client, self.timeline, self.cluster_arns[secondary])
        deps = Dependencies(
            dynamodb=dynamodb,
            sns=self.client("sns", secondary, CLIENT_CONFIG),
            rds_in=lambda region: rds[region],
            probe=probe,
            now=self.clock.now,
            sleep=self.clock.sleep,
            remaining_seconds=None,
        )
        self.orchestrator = Orchestrator(settings, deps)
        self.outcomes: list[dict[str, Any]] = []
        self.dead_letters: list[str] = []
        self.invocations = 0
        return self.orchestrator

    def invoke_orchestrator(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """One asynchronous invocation with Lambda's two retries, then the DLQ."""
        self.invocations += 1
        request_id = f"drill-invocation-{self.invocations}"
        for attempt in range(3):
            try:
                outcome = self.orchestrator.run(event, request_id=request_id).to_json()
            except Exception as exc:  # noqa: BLE001 - Lambda retries any failure
                self.timeline.add(
                    "orchestrator failed", f"attempt {attempt + 1}: {type(exc).__name__}: {exc}"
                )
                continue
            self.outcomes.append(outcome)
            self.timeline.add(f"orchestrator: {outcome['outcome']}", outcome["detail"][:110])
            return outcome
        self.dead_letters.append(json.dumps(event))
        return None

    def _drain_orchestrator(self) -> None:
        while self.orchestrator_queue:
            self.invoke_orchestrator(self.orchestrator_queue.popleft())

    # -- reading the end state -------------------------------------------------------------
    def scan_orders(self, region: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.names.table, "ConsistentRead": True}
        while True:
            page = self.ddb[region].scan(**request)
            items.extend(i for i in page["Items"] if i["sk"]["S"] == "ORDER")
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def control(self, region: str) -> dict[str, Any]:
        item = self.ddb[region].get_item(
            TableName=self.names.table,
            Key={"pk": {"S": "CONTROL"}, "sk": {"S": "CONTROL"}},
            ConsistentRead=True,
        )["Item"]
        return {
            "active_region": item["active_region"]["S"],
            "state": item["state"]["S"],
            "epoch": int(item["epoch"]["N"]),
        }

    def reports(self) -> list[str]:
        outcomes: list[str] = []
        while True:
            page = self.sqs.receive_message(QueueUrl=self.report_queue, MaxNumberOfMessages=10)
            messages = page.get("Messages", [])
            if not messages:
                return outcomes
            for message in messages:
                body = json.loads(message["Body"])
                outcomes.append(json.loads(body["Message"])["outcome"])
                self.sqs.delete_message(QueueUrl=self.report_queue, ReceiptHandle=message["ReceiptHandle"])


def _origin(record: dict[str, Any]) -> str | None:
    image = record["dynamodb"].get("NewImage") or {}
    return image.get("origin_region", {}).get("S")


def _lambda_record(record: dict[str, Any], region: str) -> dict[str, Any]:
    """A stream record as Lambda delivers it (epoch seconds, the region)."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": f"arn:aws:dynamodb:{region}:123456789012:table/drill/stream/1",
    }


# --- the scenario -------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the game day; returns the exit status."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "trading-drill")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    for key, value in (("AWS_ACCESS_KEY_ID", "drill"), ("AWS_SECRET_ACCESS_KEY", "drill")):
        os.environ[key] = value
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)

    started = time.monotonic()
    # SIGTERM/SIGHUP (a CI timeout, a closed terminal) unwind like Ctrl-C, so the finally below
    # stops the emulator; if this process is killed outright, the emulator sees its stdin close.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    emulator = Emulator.start()
    os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint
    try:
        return _scenario(args, emulator, out, started)
    except KeyboardInterrupt:
        print("drill: interrupted", file=sys.stderr)
        return 130
    finally:
        emulator.stop()


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _scenario(
    args: argparse.Namespace, emulator: Emulator, out: Callable[[str], None], started: float
) -> int:
    import moto

    world = World(args, emulator)
    primary, secondary = args.primary, args.secondary
    out(
        EMULATED.format(
            moto=moto.__version__,
            endpoint=emulator.endpoint,
            interval=args.check_interval,
            threshold=args.check_threshold,
            canary=args.canary_interval,
        )
    )
    world.create_fixture()
    n = world.names
    out("Fixture (names as the plan names them):")
    out(
        f"  global cluster  {n.global_cluster}: writer {n.cluster(primary)} ({primary}), "
        f"member {n.cluster(secondary)} ({secondary})"
    )
    out(
        f"  global table    {n.table} in {primary} and {secondary}; "
        f"control record active_region={primary} epoch={INITIAL_EPOCH}"
    )
    out(f"  topics          {n.topic(primary)}, {n.topic(secondary)} (orchestrator reports -> SQS)")
    out("")
    world.clock.on_sleep.append(world.tick)
    world.build_orchestrator()

    # 1. steady state + 2. a flapping alarm while the primary is healthy
    world.timeline.add("steady state", f"orders through DNS -> {world.resolve()}")
    world.advance(args.steady_seconds / 2)
    world.timeline.add("flapping alarm", "primary-down ALARM while the primary is healthy")
    flap = world.invoke_orchestrator(world.alarm_event("ALARM", "one flapping datapoint"))
    epoch_after_flap = world.control(secondary)["epoch"]
    world.advance(args.steady_seconds / 2)

    # 3. the primary goes down right after a burst that has not replicated yet
    burst = [world._new_client_order_id() for _ in range(args.burst)]
    for cid in burst:
        world.place(primary, cid)
    world.faults.region_outage(primary)
    emulator.control(f"regions/{primary}/unavailable")
    world.timeline.zero = world.clock.now()
    world.timeline.add(
        "OUTAGE", f"{primary} unreachable; {len(burst)} orders accepted there not yet replicated"
    )
    # Faults the orchestrator's own calls will meet (botocore's standard retries absorb them).
    world.faults.throttle("dynamodb", "UpdateItem", region=secondary, times=1)
    world.faults.fail("rds", "FailoverGlobalCluster", region=secondary, times=1)

    # 4./5. detection -> orchestrator -> DNS -> writes in the secondary
    deadline = world.clock.now() + args.max_outage_seconds
    while world.clock.now() < deadline and world.timeline.first("first write in secondary") is None:
        world.advance(args.tick)
    world.advance(args.after_seconds)

    # 6. recovery of the old primary
    world.faults.restore(primary)
    emulator.control(f"regions/{primary}/available")
    world.timeline.add("primary back", f"{primary} reachable; replication resumes")
    world.advance(2)
    stale = [world._new_client_order_id() for _ in range(args.stale_writes)]
    for cid in stale:
        if world.place(primary, cid) != "accepted":
            world.pending.append(cid)  # the client retries through DNS
    world.timeline.add("stale-DNS writes", f"{len(stale)} POSTs to {primary} directly")
    if args.sweep:
        world.orchestrator_queue.append(
            {"action": "failover", "dry_run": False, "reason": "post-recovery sweep"}
        )
    else:
        world.timeline.add("no sweep", "the runbook's post-recovery orchestrator run is skipped (--no-sweep)")
    world.advance(args.drain_seconds)
    world.traffic = False
    world.timeline.add("traffic stopped", f"{len(world.pending)} orders still to send; draining")
    for _ in range(args.drain_seconds * 3):
        if not world.pending and not any(world.processor_retry.values()):
            break
        world.advance(args.tick)
    world.advance(2)  # the last settlements replicate

    return _report(world, args, out, started, flap, epoch_after_flap, burst, stale)


def _report(
    world: World,
    args: argparse.Namespace,
    out: Callable[[str], None],
    started: float,
    flap: dict[str, Any] | None,
    epoch_after_flap: int,
    burst: list[str],
    stale: list[str],
) -> int:
    primary, secondary = args.primary, args.secondary
    world.replicator.pump()
    orders = {i["order_id"]["S"]: i for i in world.scan_orders(secondary)}
    accepted = {cid: a for cid, a in world.accepted.items() if not cid.endswith("#dup")}
    ledger = world.aurora.rows
    lost = sorted(cid for cid, a in accepted.items() if a.order_id not in ledger)
    unsettled = sorted(oid for oid, i in orders.items() if i["status"]["S"] != "SETTLED")
    ledger_by_client = Counter(str(row["client_order_id"]) for row in ledger.values())
    duplicated = sum(c - 1 for c in ledger_by_client.values() if c > 1) + sum(
        1 for cid in world.accepted if cid.endswith("#dup")
    )
    fence_at = world.timeline.first("fencing")
    active_at = world.timeline.first("activation")
    fenced_accepts = sorted(
        {
            cid
            for cid, a in accepted.items()
            if fence_at is not None
            and a.at >= fence_at
            and (a.region == primary or (active_at is None or a.at < active_at))
        }
        | set(world.fenced_accepts)
    )
    refused_fenced = sum(world.refused.values())
    events = world.emulator.control("events", method="GET")
    promotions = [e for e in events if e["phase"] == "started"]
    control = {r: world.control(r) for r in (primary, secondary)}
    writer = world.aurora.writer_region()
    reports = world.reports()
    outcomes = [o["outcome"] for o in world.outcomes]

    out("Timeline (T = the outage; simulated time):")
    for line in world.timeline.render():
        out(line)
    out("")
    detection = world.timeline.first("detection")
    first_write = world.timeline.first("first write in secondary")
    zero = world.timeline.zero or 0.0

    def rel(t: float | None) -> str:
        return "never" if t is None else f"{t - zero:.0f} s"

    out("Result:")
    out(
        f"  orders accepted          {len(accepted)} "
        f"({sum(1 for a in accepted.values() if a.region == primary)} in {primary}, "
        f"{sum(1 for a in accepted.values() if a.region == secondary)} in {secondary})"
    )
    out(f"  orders lost              {len(lost)}")
    out(f"  orders duplicated        {duplicated}")
    out(
        f"  writes refused (fenced)  {refused_fenced}: "
        + ", ".join(f"{r} {e} x{c}" for (r, e), c in sorted(world.refused.items()))
    )
    out(f"  writes accepted fenced   {len(fenced_accepts)}")
    out(
        f"  ledger                   {len(ledger)} rows; "
        "repeated settlement attempts absorbed by the unique key: "
        f"{sum(c - 1 for c in world.aurora.inserts.values())}"
    )
    out(
        f"  handed over              {sum(len(o['handed_over']) for o in world.outcomes)} orders of {primary}"
    )
    out(f"  detection / write RTO    {rel(detection)} / {rel(first_write)} after the outage")
    out(
        f"  faults injected          throttling {world.faults.count(KIND_THROTTLE)}, "
        f"failing calls {world.faults.count(KIND_ERROR)}, "
        f"outage {world.faults.count(KIND_OUTAGE)} refused calls"
    )
    out(f"  replication              {dict(world.replicator.replicated)}")
    out(
        f"  orchestrator outcomes    {outcomes}; SNS reports {reports}; "
        f"dead letters {len(world.dead_letters)}"
    )
    out(f"  control record           {primary}: {control[primary]}  {secondary}: {control[secondary]}")
    out(f"  wall time                {time.monotonic() - started:.1f} s")
    out("")

    checks = [
        Check(
            "no accepted order lost", not lost, ", ".join(lost[:5]) or "every accepted order is in the ledger"
        ),
        Check("no order duplicated", duplicated == 0, f"{duplicated} duplicate(s)"),
        Check(
            "no write accepted by a fenced region",
            not fenced_accepts,
            ", ".join(fenced_accepts[:5]) or "none",
        ),
        Check("every order settled", not unsettled, f"{len(unsettled)} not SETTLED in {secondary}"),
        Check(
            "flapping alarm changed nothing",
            bool(flap) and flap["outcome"] == "refused" and epoch_after_flap == INITIAL_EPOCH,
            f"outcome {flap and flap['outcome']}, epoch {epoch_after_flap}",
        ),
        Check(
            "exactly one promotion, by FailoverGlobalCluster with AllowDataLoss",
            len(promotions) == 1
            and promotions[0]["operation"] == "FailoverGlobalCluster"
            and promotions[0]["allow_data_loss"],
            f"{[(p['operation'], p['allow_data_loss']) for p in promotions]}",
        ),
        Check(
            f"{secondary} holds the writer and is active in both regions",
            writer == secondary
            and all(
                c == {"active_region": secondary, "state": "active", "epoch": INITIAL_EPOCH + 1}
                for c in control.values()
            ),
            f"writer {writer}",
        ),
        Check(
            "writes during the fence refused as failover_in_progress",
            bool(world.fence_probes) and world.fence_probes_refused == len(world.fence_probes),
            f"{world.fence_probes_refused} of {len(world.fence_probes)} direct writes to reachable "
            "regions while failing_over",
        ),
        Check(
            "stale-DNS writes to the old primary refused",
            all(cid not in accepted or accepted[cid].region != primary for cid in stale),
            f"{world.refused.get((primary, 'region_not_active'), 0)} refused as region_not_active",
        ),
        Check(
            "burst orders of the old primary handed over and settled",
            all(cid in accepted and accepted[cid].order_id in ledger for cid in burst),
            f"{len(burst)} orders",
        ),
        Check("outcomes reported on SNS", sorted(reports) == sorted(outcomes), f"{reports}"),
        Check("no dead letters", not world.dead_letters, f"{len(world.dead_letters)}"),
        Check(
            "faults injected",
            world.faults.count(KIND_THROTTLE) >= 1
            and world.faults.count(KIND_ERROR) >= 1
            and world.faults.count(KIND_OUTAGE) >= 1,
            "throttling, a failing call and a region outage",
        ),
    ]
    out("Invariants:")
    for check in checks:
        out(f"  [{'PASS' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    out("")
    out(f"drill: {'FAILED: ' + str(len(failed)) + ' invariant(s) broken' if failed else 'passed'}")
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drill", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="environment whose names the fixture uses (default dev)")
    parser.add_argument("--primary", default="us-east-1")
    parser.add_argument("--secondary", default="us-east-2")
    parser.add_argument("--orders-per-tick", type=int, default=1, help="new orders per simulated second")
    parser.add_argument("--steady-seconds", type=int, default=20)
    parser.add_argument("--burst", type=int, default=3, help="orders accepted just before the outage")
    parser.add_argument("--after-seconds", type=int, default=20, help="seconds of writes after the failover")
    parser.add_argument("--stale-writes", type=int, default=2)
    parser.add_argument("--drain-seconds", type=int, default=10)
    parser.add_argument("--max-outage-seconds", type=int, default=600)
    parser.add_argument("--check-interval", type=int, default=30, help="health-check interval (10 or 30)")
    parser.add_argument("--check-threshold", type=int, default=3)
    parser.add_argument("--canary-interval", type=int, default=60)
    parser.add_argument(
        "--no-sweep",
        dest="sweep",
        action="store_false",
        help="skip the post-recovery orchestrator run (shows the old primary's orders stuck)",
    )
    parser.add_argument(
        "--client-max-wait",
        type=int,
        default=60,
        help="longest Retry-After the client honours before resolving DNS again (seconds)",
    )
    parser.add_argument("--tick", type=float, default=1.0, help="simulated seconds per world tick")
    parser.add_argument("--quick", action="store_true", help="short run (tests): fewer seconds of traffic")
    args = parser.parse_args(argv)
    if args.quick:
        args.steady_seconds, args.after_seconds, args.drain_seconds = 6, 4, 6
        args.check_interval, args.tick, args.client_max_wait = 10, 2.0, 10
    if args.check_interval not in (10, 30):
        parser.error("--check-interval must be 10 or 30 (Route 53 request intervals)")
    if args.primary == args.secondary:
        parser.error("--primary and --secondary must differ")
    # Checked before the emulator starts: a bad name would otherwise end in a traceback from
    # shared.naming halfway through building the fixture.
    if not ENVIRONMENT_PATTERN.match(args.env) or "--" in args.env or args.env.endswith("-"):
        parser.error(f"--env {args.env!r} is not an environment name (^[a-z][a-z0-9-]{{1,11}}$)")
    for flag, region in (("--primary", args.primary), ("--secondary", args.secondary)):
        if region not in REGION_CODES:
            parser.error(f"{flag} {region!r} is not a known region: one of {', '.join(sorted(REGION_CODES))}")
    return args


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))
