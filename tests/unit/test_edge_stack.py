"""E1–E8 on the real trading-edge program under mocks, fed the real data plan and region fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.contracts import edge as edge_contract
from shared.errors import ConfigError
from shared.policy.rules import arn_region
from shared.runtimes import SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES
from tests.planning import REPO, of_type, one
from tests.unit.edge_planning import edge_plan, environment_exports

ACCOUNT = "123456789012"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
WEST = {"trading-data:primaryRegion": "us-west-2", "trading-data:secondaryRegion": "us-east-2"}


@pytest.fixture(scope="module", params=["dev", "prod"])
def plan(request: pytest.FixtureRequest) -> Any:
    return edge_plan(request.param)


@pytest.fixture(scope="module")
def dev() -> Any:
    return edge_plan("dev")


@pytest.fixture(scope="module")
def west() -> Any:
    """us-east-1 is not a configured region here."""
    return edge_plan("dev", data_overrides=WEST)


def _policy(resource: dict[str, Any]) -> dict[str, Any]:
    value = resource["inputs"]["policy"]
    return json.loads(value) if isinstance(value, str) else value


def _alarm_arn(region: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}"


# -- E1 --------------------------------------------------------------------------------------
def test_reads_the_data_stack_it_is_configured_for() -> None:
    missing = "organization/trading-data/dev"
    # The plan's mocks answer only the stacks they were given: each one is really read.
    from shared.plan.mocks import UnknownStackReferenceError
    from tests.unit.edge_planning import environment_exports

    exports = environment_exports("dev")
    del exports[missing]
    with pytest.raises(UnknownStackReferenceError, match=f"stack reference '{missing}' has no plan yet"):
        edge_plan("dev", exports=exports)


def test_region_stacks_follow_the_data_stacks_regions(west: Any) -> None:
    # Planned with exports for dev-us-west-2 and dev-us-east-2 only.
    assert set(west.outputs[edge_contract.TOPIC_ARNS]) == {"us-west-2", "us-east-2"}


def test_region_stacks_can_be_named_in_config() -> None:
    from tests.unit.edge_planning import environment_exports

    exports = environment_exports("dev")
    exports["acme/trading-region/east1"] = exports.pop("organization/trading-region/dev-us-east-1")
    exports["acme/trading-region/east2"] = exports.pop("organization/trading-region/dev-us-east-2")
    stack = edge_plan(
        "dev",
        {"trading-edge:regionStacks": '["acme/trading-region/east1", "acme/trading-region/east2"]'},
        exports=exports,
    )
    assert set(stack.outputs[edge_contract.TOPIC_ARNS]) == {"us-east-1", "us-east-2"}


def test_every_aws_resource_is_on_an_explicit_provider(plan: Any) -> None:
    providers = {r["urn"]: r["inputs"]["region"] for r in of_type(plan, "pulumi:providers:aws")}
    assert sorted(providers.values()) == ["us-east-1", "us-east-1", "us-east-2"]
    for r in plan.resources:
        if r["type"].startswith("aws:"):
            assert r["provider"] in providers, r["urn"]
            assert r["region"] == providers[r["provider"]], r["urn"]


def test_no_policy_findings(plan: Any) -> None:
    assert plan.document["policy"] == []


# -- E2 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "interval"),
    [("dev", 30), ("prod", 10)],
)
def test_health_checks(env: str, interval: int) -> None:
    stack = edge_plan(env)
    checks = {r["name"]: r for r in of_type(stack, "aws:route53/healthCheck:HealthCheck")}
    assert sorted(checks) == ["health-primary-check", "health-secondary-check"]
    expected = {
        "health-primary-check": ("ause1xyz12.execute-api.us-east-1.amazonaws.com", f"/{env}/health/active"),
        "health-secondary-check": ("ause2xyz12.execute-api.us-east-2.amazonaws.com", f"/{env}/health"),
    }
    for name, check in checks.items():
        inputs = check["inputs"]
        assert (inputs["fqdn"], inputs["resourcePath"]) == expected[name]
        assert (inputs["type"], inputs["port"], inputs["enableSni"]) == ("HTTPS", 443, True)
        assert (inputs["requestInterval"], inputs["failureThreshold"], inputs["measureLatency"]) == (
            interval,
            3,
            True,
        )
        assert inputs["regions"] == ["us-east-1", "us-west-2", "eu-west-1"]
        assert len(inputs["regions"]) >= 3


def test_interval_10_is_accepted_and_anything_else_is_a_config_error() -> None:
    ten = edge_plan("dev", {"trading-edge:healthCheckInterval": "10"})
    assert {r["inputs"]["requestInterval"] for r in of_type(ten, "aws:route53/healthCheck:HealthCheck")} == {
        10
    }
    with pytest.raises(
        ConfigError, match=r"^config trading-edge:healthCheckInterval=20 is not allowed: 10 or 30"
    ):
        edge_plan("dev", {"trading-edge:healthCheckInterval": "20"})


@pytest.mark.parametrize("which", ["default-regions", "us-east-1-not-configured"])
def test_route53_alarms_and_their_topic_live_in_us_east_1(which: str) -> None:
    stack = edge_plan("dev", data_overrides=None if which == "default-regions" else WEST)
    alerts = one(stack, "aws:sns/topic:Topic", "alerts-topic")
    assert (alerts["region"], alerts["inputs"]["name"]) == ("us-east-1", "trading-dev-alerts-use1")
    alerts_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:trading-dev-alerts-use1"
    key = one(stack, "aws:kms/key:Key", "alerts-key")
    assert (key["region"], key["inputs"]["enableKeyRotation"]) == ("us-east-1", True)
    assert arn_region(alerts["inputs"]["kmsMasterKeyId"]) == "us-east-1"
    assert key["urn"] in alerts["dependencies"]  # the alerts key, not a data key
    route53_alarms = [r for r in of_type(stack, ALARM) if r["inputs"]["namespace"] == "AWS/Route53"]
    assert len(route53_alarms) == 2
    for alarm in route53_alarms:
        inputs = alarm["inputs"]
        assert alarm["region"] == "us-east-1"
        assert (
            inputs["metricName"],
            inputs["statistic"],
            inputs["comparisonOperator"],
            inputs["threshold"],
        ) == (
            "HealthCheckStatus",
            "Minimum",
            "LessThanThreshold",
            1,
        )
        assert inputs["alarmActions"] == [alerts_arn]
        assert inputs["okActions"] == [alerts_arn]
        assert inputs["treatMissingData"] == "breaching"
    check_ids = set(stack.outputs[edge_contract.HEALTH_CHECK_IDS].values())
    assert {a["inputs"]["dimensions"]["HealthCheckId"] for a in route53_alarms} == check_ids


# -- E4 --------------------------------------------------------------------------------------
def test_one_topic_per_region_encrypted_with_that_regions_data_key(dev: Any) -> None:
    data_regional = edge_plan_data_regional()
    for role, region, code in (("primary", "us-east-1", "use1"), ("secondary", "us-east-2", "use2")):
        topic = one(dev, "aws:sns/topic:Topic", f"topic-{role}-topic")
        assert (topic["region"], topic["inputs"]["name"]) == (region, f"trading-dev-ops-{code}")
        assert topic["inputs"]["kmsMasterKeyId"] == data_regional[region]["kmsKeyArn"]


def edge_plan_data_regional() -> dict[str, Any]:
    from tests.planning import data_plan

    return data_plan("dev").outputs["regional"]


def test_cross_region_subscription_lives_with_the_topic_and_the_permission_with_the_function(
    dev: Any,
) -> None:
    primary_topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:trading-dev-ops-use1"
    function_arn = f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:trading-dev-failover-use2"
    subscription = one(dev, "aws:sns/topicSubscription:TopicSubscription", "failover-subscription")
    assert subscription["region"] == "us-east-1"
    filter_policy = json.loads(subscription["inputs"].pop("filterPolicy"))
    assert filter_policy == {"AlarmName": ["trading-dev-regional-health-use1"], "NewStateValue": ["ALARM"]}
    assert subscription["inputs"] == {
        "topic": primary_topic,
        "protocol": "lambda",
        "endpoint": function_arn,
        "filterPolicyScope": "MessageBody",
    }
    permission = one(dev, "aws:lambda/permission:Permission", "failover-from-primary-topic")
    assert permission["region"] == "us-east-2"
    assert permission["inputs"] == {
        "action": "lambda:InvokeFunction",
        "function": "trading-dev-failover-use2",
        "principal": "sns.amazonaws.com",
        "sourceArn": primary_topic,
    }
    assert permission["urn"] in subscription["dependencies"]


def test_alert_email_subscribes_every_topic() -> None:
    stack = edge_plan("dev", {"trading-edge:alertEmail": "oncall@example.com"})
    emails = {
        r["name"]: (r["region"], r["inputs"]["protocol"], r["inputs"]["endpoint"])
        for r in of_type(stack, "aws:sns/topicSubscription:TopicSubscription")
        if r["inputs"]["protocol"] == "email"
    }
    assert emails == {
        "alerts-email": ("us-east-1", "email", "oncall@example.com"),
        "topic-primary-email": ("us-east-1", "email", "oncall@example.com"),
        "topic-secondary-email": ("us-east-2", "email", "oncall@example.com"),
    }


# -- E5 --------------------------------------------------------------------------------------
def test_every_alarm_acts_on_a_topic_of_its_own_region_with_alarm_and_ok_actions(plan: Any) -> None:
    alarms = of_type(plan, ALARM) + of_type(plan, COMPOSITE)
    assert len(alarms) == 33  # 12+11 regional, 2 canary + 2 own-step + 1 witness, 2 Route 53, 3 composites
    for alarm in alarms:
        inputs = alarm["inputs"]
        assert inputs["alarmActions"] and inputs["okActions"], alarm["name"]
        for action in inputs["alarmActions"] + inputs["okActions"]:
            assert arn_region(action) == alarm["region"], (alarm["name"], action)
        sns_ok = [a for a in inputs["okActions"] if a.startswith("arn:aws:sns:")]
        assert sns_ok == [a for a in inputs["alarmActions"] if a.startswith("arn:aws:sns:")]
        if alarm["type"] == ALARM:
            assert inputs["treatMissingData"] in ("breaching", "notBreaching"), alarm["name"]


EXPECTED_ALARMS = {
    # key: (namespace, metric, statistic or extended, threshold, comparison, missing)
    "api-5xx": ("AWS/ApiGateway", "5XXError", "Sum", 5, "GreaterThanOrEqualToThreshold", "notBreaching"),
    "api-latency-p99": ("AWS/ApiGateway", "Latency", "p99", 2000, "GreaterThanThreshold", "notBreaching"),
    "api-errors": ("AWS/Lambda", "Errors", "Sum", 5, "GreaterThanOrEqualToThreshold", "notBreaching"),
    "api-throttles": ("AWS/Lambda", "Throttles", "Sum", 1, "GreaterThanOrEqualToThreshold", "notBreaching"),
    "processor-errors": ("AWS/Lambda", "Errors", "Sum", 5, "GreaterThanOrEqualToThreshold", "notBreaching"),
    "processor-throttles": (
        "AWS/Lambda",
        "Throttles",
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    ),
    "dynamodb-replication-latency": (
        "AWS/DynamoDB",
        "ReplicationLatency",
        "Average",
        30000,
        "GreaterThanThreshold",
        "notBreaching",
    ),
    "dynamodb-system-errors": (
        "AWS/DynamoDB",
        "SystemErrors",
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    ),
    "aurora-cpu": ("AWS/RDS", "CPUUtilization", "Average", 80, "GreaterThanThreshold", "notBreaching"),
    "s3-replication-failed": (
        "AWS/S3",
        "OperationFailedReplication",
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    ),
    "s3-replication-latency": (
        "AWS/S3",
        "ReplicationLatency",
        "Maximum",
        900,
        "GreaterThanThreshold",
        "notBreaching",
    ),
    "aurora-replication-lag": (
        "AWS/RDS",
        "AuroraGlobalDBReplicationLag",
        "Maximum",
        30000,
        "GreaterThanThreshold",
        "notBreaching",
    ),
}


@pytest.mark.parametrize(
    ("role", "region", "code", "other"),
    [
        ("primary", "us-east-1", "use1", "us-east-2"),
        ("secondary", "us-east-2", "use2", "us-east-1"),
    ],
)
def test_regional_alarm_rows(dev: Any, role: str, region: str, code: str, other: str) -> None:
    keys = [k for k in EXPECTED_ALARMS if role == "secondary" or k != "aurora-replication-lag"]
    other_code = "use2" if code == "use1" else "use1"
    for key in keys:
        alarm = one(dev, ALARM, f"alarms-{role}-{key}")
        inputs = alarm["inputs"]
        stat = inputs.get("statistic") or inputs.get("extendedStatistic")
        assert (
            inputs["namespace"],
            inputs["metricName"],
            stat,
            inputs["threshold"],
            inputs["comparisonOperator"],
            inputs["treatMissingData"],
        ) == EXPECTED_ALARMS[key], key
        assert (alarm["region"], inputs["name"]) == (region, f"trading-dev-{key}-{code}")
    dims = {key: one(dev, ALARM, f"alarms-{role}-{key}")["inputs"]["dimensions"] for key in keys}
    assert dims["api-5xx"] == {"ApiName": f"trading-dev-api-{code}", "Stage": "dev"}
    assert dims["api-errors"] == {"FunctionName": f"trading-dev-api-{code}"}
    assert dims["processor-errors"] == {"FunctionName": f"trading-dev-processor-{code}"}
    assert dims["dynamodb-replication-latency"] == {
        "TableName": "trading-dev-orders",
        "ReceivingRegion": other,
    }
    assert dims["s3-replication-failed"]["RuleId"] == f"documents-{code}-to-{other_code}"
    assert dims["aurora-cpu"] == {"DBClusterIdentifier": f"trading-dev-aurora-{code}"}


def test_aurora_replication_lag_is_alarmed_in_the_secondary_only(dev: Any) -> None:
    lag = [r for r in of_type(dev, ALARM) if r["inputs"]["metricName"] == "AuroraGlobalDBReplicationLag"]
    assert [(r["region"], r["inputs"]["dimensions"]) for r in lag] == [
        ("us-east-2", {"DBClusterIdentifier": "trading-dev-aurora-use2"})
    ]


@pytest.mark.parametrize(
    ("role", "region", "code"), [("primary", "us-east-1", "use1"), ("secondary", "us-east-2", "use2")]
)
def test_regional_health_composite_is_an_or_over_alarm_resources_of_its_region(
    dev: Any, role: str, region: str, code: str
) -> None:
    composite = one(dev, COMPOSITE, f"alarms-{role}-regional-health")
    children = [
        one(dev, ALARM, f"alarms-{role}-api-5xx"),
        one(dev, ALARM, f"alarms-{role}-api-errors"),
        one(dev, ALARM, f"alarms-{role}-processor-errors"),
        one(dev, ALARM, f"alarms-{role}-dynamodb-system-errors"),
        one(dev, ALARM, f"canary-{role}-own"),
    ]
    assert composite["region"] == region
    assert composite["inputs"]["alarmName"] == f"trading-dev-regional-health-{code}"
    assert composite["inputs"]["alarmRule"] == " OR ".join(
        f'ALARM("{_alarm_arn(region, child["inputs"]["name"])}")' for child in children
    )
    for child in children:
        assert child["region"] == region
        assert child["urn"] in composite["dependencies"]  # built from the resources, not names


@pytest.mark.parametrize(
    ("role", "region", "code"), [("primary", "us-east-1", "use1"), ("secondary", "us-east-2", "use2")]
)
def test_the_regional_composite_sees_only_its_own_regions_canary_step(
    dev: Any, role: str, region: str, code: str
) -> None:
    # The run's SuccessPercent also fails when only the other region is down: it stays an alarm
    # on the topic, but only the step on this region's /health is critical for this region.
    canary = one(dev, "aws:synthetics/canary:Canary", f"canary-{role}-canary")
    own = one(dev, ALARM, f"canary-{role}-own")
    success = one(dev, ALARM, f"canary-{role}-success")
    composite = one(dev, COMPOSITE, f"alarms-{role}-regional-health")
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:trading-dev-ops-{code}"
    assert own["region"] == region
    assert {k: own["inputs"][k] for k in ("name", "namespace", "metricName", "dimensions")} == {
        "name": f"trading-dev-canary-own-{code}",
        "namespace": "CloudWatchSynthetics",
        "metricName": "SuccessPercent",
        "dimensions": {"CanaryName": canary["inputs"]["name"], "StepName": f"health-{region}"},
    }
    assert (
        own["inputs"]["threshold"],
        own["inputs"]["comparisonOperator"],
        own["inputs"]["treatMissingData"],
        own["inputs"]["alarmActions"],
        own["inputs"]["okActions"],
    ) == (100, "LessThanThreshold", "notBreaching", [topic], [topic])
    assert success["inputs"]["name"] not in composite["inputs"]["alarmRule"]
    assert own["inputs"]["name"] in composite["inputs"]["alarmRule"]


def test_primary_down_composite_is_in_the_secondary_fed_by_its_canarys_view_of_the_primary(plan: Any) -> None:
    env = plan.document["stack"]
    composite = one(plan, COMPOSITE, "primary-down-composite")
    witness = one(plan, ALARM, "canary-secondary-witness")
    canary = one(plan, "aws:synthetics/canary:Canary", "canary-secondary-canary")
    function_arn = f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:trading-{env}-failover-use2"
    topic = f"arn:aws:sns:us-east-2:{ACCOUNT}:trading-{env}-ops-use2"
    assert (composite["region"], witness["region"], canary["region"]) == ("us-east-2",) * 3
    assert (
        composite["inputs"]["alarmRule"]
        == f'ALARM("{_alarm_arn("us-east-2", f"trading-{env}-primary-witness-use2")}")'
    )
    assert witness["urn"] in composite["dependencies"]
    assert witness["inputs"]["dimensions"] == {
        "CanaryName": canary["inputs"]["name"],
        "StepName": "health-us-east-1",
    }
    assert composite["inputs"]["alarmActions"] == [topic, function_arn]
    assert composite["inputs"]["okActions"] == [topic]
    permission = one(plan, "aws:lambda/permission:Permission", "primary-down-invoke")
    assert permission["region"] == "us-east-2"
    assert permission["inputs"] == {
        "action": "lambda:InvokeFunction",
        "function": f"trading-{env}-failover-use2",
        "principal": "lambda.alarms.cloudwatch.amazonaws.com",
        "sourceArn": _alarm_arn("us-east-2", f"trading-{env}-primary-down-use2"),
        "sourceAccount": ACCOUNT,
    }


# -- E6 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "region", "code"), [("primary", "us-east-1", "use1"), ("secondary", "us-east-2", "use2")]
)
def test_canaries(dev: Any, role: str, region: str, code: str) -> None:
    canary = one(dev, "aws:synthetics/canary:Canary", f"canary-{role}-canary")
    bucket = one(dev, "aws:s3/bucket:Bucket", f"canary-{role}-artifacts")
    inputs = canary["inputs"]
    assert inputs["runtimeVersion"] == "syn-nodejs-puppeteer-15.0"
    assert inputs["runtimeVersion"] in SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES
    assert (canary["region"], bucket["region"]) == (region, region)
    bucket_name = f"trading-dev-canary-{code}-{ACCOUNT}"
    assert bucket["inputs"]["bucket"] == bucket_name
    assert inputs["artifactS3Location"] == f"s3://{bucket_name}/canary/"
    assert (inputs["deleteLambda"], inputs["startCanary"], inputs["handler"]) == (True, True, "index.handler")
    assert inputs["schedule"] == {"expression": "rate(1 minute)"}
    key = edge_plan_data_regional()[region]["kmsKeyArn"]
    assert inputs["artifactConfig"] == {"s3Encryption": {"encryptionMode": "SSE_KMS", "kmsKeyArn": key}}
    assert json.loads(inputs["runConfig"]["environmentVariables"]["TARGETS"]) == [
        {"name": "us-east-1", "url": "https://ause1xyz12.execute-api.us-east-1.amazonaws.com/dev/health"},
        {"name": "us-east-2", "url": "https://ause2xyz12.execute-api.us-east-2.amazonaws.com/dev/health"},
    ]
    encryption = one(
        dev,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        f"canary-{role}-artifacts-encryption",
    )
    assert encryption["region"] == region
    assert encryption["inputs"]["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key},
            "bucketKeyEnabled": True,
        }
    ]
    lifecycle = one(
        dev,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        f"canary-{role}-artifacts-lifecycle",
    )
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 30}
    alarm = one(dev, ALARM, f"canary-{role}-success")
    assert (
        alarm["region"],
        alarm["inputs"]["metricName"],
        alarm["inputs"]["dimensions"],
        alarm["inputs"]["treatMissingData"],
    ) == (region, "SuccessPercent", {"CanaryName": f"trading-dev-health-{code}"}, "breaching")
    policy = _policy(one(dev, "aws:iam/rolePolicy:RolePolicy", f"canary-{role}-policy"))
    logs = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/cwsyn-trading-dev-health-{code}-*"
    assert policy["Statement"] == [
        {
            "Sid": "Artifacts",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": f"arn:aws:s3:::{bucket_name}/*",
        },
        {
            "Sid": "ArtifactsBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation"],
            "Resource": f"arn:aws:s3:::{bucket_name}",
        },
        {
            "Sid": "ArtifactsKey",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key,
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [logs, f"{logs}:log-stream:*"],
        },
        {
            "Sid": "Metrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}},
        },
    ]


def test_a_deprecated_canary_runtime_stops_the_plan() -> None:
    with pytest.raises(ConfigError, match=r"is a deprecated Node.js Synthetics runtime"):
        edge_plan("dev", {"trading-edge:canaryRuntime": "syn-nodejs-puppeteer-6.2"})


# -- E7 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "timeout", "mode"), [("dev", 600, "manual"), ("prod", 600, "automatic")])
def test_orchestrator_function(
    env: str, timeout: int, mode: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The code-only sources, whether or not a `make build` left build/functions/failover.zip here
    # (the built archive is covered in tests/tooling/test_build_functions.py).
    monkeypatch.syspath_prepend(str(REPO / "projects" / "edge"))
    import edge_tier.orchestrator as orchestrator

    monkeypatch.setattr(orchestrator, "BUILT_ARCHIVE", tmp_path / "absent" / "failover.zip")
    stack = edge_plan(env)
    function = one(stack, "aws:lambda/function:Function", "failover-function")
    inputs = function["inputs"]
    assert function["region"] == "us-east-2"
    assert "vpcConfig" not in inputs
    assert inputs["timeout"] == timeout and inputs["timeout"] >= 300
    assert inputs["reservedConcurrentExecutions"] == 1
    dlq = one(stack, "aws:sqs/queue:Queue", "failover-dlq")
    assert dlq["region"] == "us-east-2"
    assert inputs["deadLetterConfig"] == {
        "targetArn": f"arn:aws:sqs:us-east-2:{ACCOUNT}:trading-{env}-failover-dlq-use2"
    }
    assert (inputs["runtime"], inputs["handler"]) == ("python3.13", "handler.lambda_handler")
    assert "trading_runtime/control.py" in inputs["code"]["archive"]
    assert "failover_orchestrator/logic.py" in inputs["code"]["archive"]
    variables = inputs["environment"]["variables"]
    assert (variables["FAILOVER_MODE"], variables["WAIT_TIMEOUT_SECONDS"], variables["REGION_NAME"]) == (
        mode,
        str(timeout - 120),
        "us-east-2",
    )
    assert json.loads(variables["TRIGGER_ALARMS"]) == [
        f"trading-{env}-regional-health-use1",
        f"trading-{env}-primary-down-use2",
    ]
    invoke_config = one(
        stack, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "failover-async"
    )
    assert invoke_config["inputs"]["maximumRetryAttempts"] == 2


def test_orchestrator_iam_names_exactly_its_resources(dev: Any) -> None:
    data = edge_plan_data_regional()
    from tests.planning import data_plan

    outputs = data_plan("dev").outputs
    policy = _policy(one(dev, "aws:iam/rolePolicy:RolePolicy", "failover-policy"))
    log_group = f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:/aws/lambda/trading-dev-failover-use2"
    assert policy["Statement"] == [
        {
            "Sid": "ControlRecordAndOrders",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Scan"],
            "Resource": data["us-east-2"]["tableReplicaArn"],
        },
        {
            "Sid": "DescribeGlobalCluster",
            "Effect": "Allow",
            "Action": ["rds:DescribeGlobalClusters"],
            "Resource": outputs["globalClusterArn"],
        },
        {
            "Sid": "PromoteMember",
            "Effect": "Allow",
            "Action": ["rds:SwitchoverGlobalCluster", "rds:FailoverGlobalCluster"],
            "Resource": [
                outputs["globalClusterArn"],
                data["us-east-1"]["clusterArn"],
                data["us-east-2"]["clusterArn"],
            ],
        },
        {
            "Sid": "Report",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": f"arn:aws:sns:us-east-2:{ACCOUNT}:trading-dev-ops-use2",
        },
        {
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": f"arn:aws:sqs:us-east-2:{ACCOUNT}:trading-dev-failover-dlq-use2",
        },
        {
            "Sid": "RegionalKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": data["us-east-2"]["kmsKeyArn"],
        },
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:log-stream:*"],
        },
    ]
    assert data["us-east-2"]["tableReplicaArn"].startswith("arn:aws:dynamodb:us-east-2:")


# -- E3 --------------------------------------------------------------------------------------
def test_failover_records_when_a_domain_and_zone_are_configured() -> None:
    stack = edge_plan(
        "dev",
        {"trading-edge:domainName": "api.example.com", "trading-edge:hostedZoneId": "Z0123456789ABC"},
        domain=True,
    )
    check_ids = stack.outputs[edge_contract.HEALTH_CHECK_IDS]
    records = {r["name"]: r for r in of_type(stack, "aws:route53/record:Record")}
    assert sorted(records) == ["dns-primary-record", "dns-secondary-record"]
    for role, region, zone in (
        ("primary", "us-east-1", "Z1UJRXOUMOOFQ8"),
        ("secondary", "us-east-2", "ZOJJZC49E0EPZ"),
    ):
        code = "use1" if region == "us-east-1" else "use2"
        inputs = records[f"dns-{role}-record"]["inputs"]
        assert inputs == {
            "zoneId": "Z0123456789ABC",
            "name": "api.example.com",
            "type": "A",
            "setIdentifier": role,
            "failoverRoutingPolicies": [{"type": role.upper()}],
            "healthCheckId": check_ids[region],
            "aliases": [
                {
                    "name": f"d-{code}abcdef.execute-api.{region}.amazonaws.com",
                    "zoneId": zone,
                    "evaluateTargetHealth": True,
                }
            ],
        }
    assert stack.outputs[edge_contract.DNS_NAME] == "api.example.com"


def test_no_records_without_a_domain(dev: Any) -> None:
    assert of_type(dev, "aws:route53/record:Record") == []
    assert edge_contract.DNS_NAME not in dev.outputs


# -- E8 --------------------------------------------------------------------------------------
def test_exports_the_edge_contract(dev: Any) -> None:
    assert sorted(dev.outputs) == sorted(edge_contract.REQUIRED_KEYS)
    checks = {r["name"]: r for r in of_type(dev, "aws:route53/healthCheck:HealthCheck")}
    assert set(dev.outputs[edge_contract.HEALTH_CHECK_IDS]) == {"us-east-1", "us-east-2"}
    assert len(checks) == 2
    assert dev.outputs[edge_contract.TOPIC_ARNS] == {
        "us-east-1": f"arn:aws:sns:us-east-1:{ACCOUNT}:trading-dev-ops-use1",
        "us-east-2": f"arn:aws:sns:us-east-2:{ACCOUNT}:trading-dev-ops-use2",
    }
    assert (
        dev.outputs[edge_contract.ALERTS_TOPIC_ARN]
        == f"arn:aws:sns:us-east-1:{ACCOUNT}:trading-dev-alerts-use1"
    )
    assert dev.outputs[edge_contract.COMPOSITE_ALARM_ARNS] == {
        "us-east-1": _alarm_arn("us-east-1", "trading-dev-regional-health-use1"),
        "us-east-2": _alarm_arn("us-east-2", "trading-dev-regional-health-use2"),
    }
    assert dev.outputs[edge_contract.PRIMARY_DOWN_ALARM_ARN] == _alarm_arn(
        "us-east-2", "trading-dev-primary-down-use2"
    )
    assert dev.outputs[edge_contract.FAILOVER_FUNCTION_NAME] == "trading-dev-failover-use2"
    assert (
        dev.outputs[edge_contract.FAILOVER_FUNCTION_ARN]
        == f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:trading-dev-failover-use2"
    )


_WRONG_REGION_SCRIPT = """
from tests.unit.edge_planning import edge_plan, environment_exports, region_exports
exports = environment_exports("dev")
exports["organization/trading-region/dev-us-east-2"] = region_exports("dev", "us-west-2")
try:
    edge_plan("dev", exports=exports)
except Exception as exc:
    print("REFUSED:", exc)
"""


def test_a_region_stack_for_the_wrong_region_is_refused() -> None:
    # In a child process: an exception raised inside an apply leaves Pulumi's runtime state of
    # this process unusable for the plans of later tests.
    import subprocess
    import sys

    from tests.planning import REPO

    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _WRONG_REGION_SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (
        "REFUSED: region stack secondary exports region 'us-west-2', but the data stack's region for it is "
        "'us-east-2': fix trading-edge:regionStacks"
    ) in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("prod", True)])
def test_stateful_edge_resources_are_protected_in_prod(env: str, protected: bool) -> None:
    stack = edge_plan(env)
    stateful = [one(stack, "aws:kms/key:Key", "alerts-key"), *of_type(stack, "aws:s3/bucket:Bucket")]
    assert len(stateful) == 3
    for r in stateful:
        assert (r["protect"], r["retainOnDelete"]) == (protected, protected), r["name"]
    for bucket in of_type(stack, "aws:s3/bucket:Bucket"):
        assert bucket["inputs"]["forceDestroy"] is not protected
    assert [f for f in stack.document["policy"] if f["severity"] == "mandatory"] == []


def test_the_canary_archive_is_deterministic_and_laid_out_for_the_nodejs_runtime(tmp_path: Any) -> None:
    import hashlib
    import zipfile

    from tests.planning import PROJECTS

    sys_path_entry = str(PROJECTS / "edge")
    import sys

    sys.path.insert(0, sys_path_entry)
    try:
        from edge_tier.canary import build_canary_zip
    finally:
        sys.path.remove(sys_path_entry)
    first = build_canary_zip(tmp_path / "a" / "health.zip")
    second = build_canary_zip(tmp_path / "b" / "health.zip")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["nodejs/node_modules/index.js", "nodejs/node_modules/probe.js"]
    assert sorted(p.name for p in first.parent.iterdir()) == ["health.zip"]  # no temporary left


def test_api_alarms_watch_the_api_the_region_stack_names() -> None:
    # The ApiName dimension comes from the region contract, not from a re-derived name: a renamed
    # API must not leave its alarms silently watching nothing.
    exports = environment_exports("dev")
    east1 = exports["organization/trading-region/dev-us-east-1"]
    east1["apiName"] = "renamed-api-use1"
    stack = edge_plan("dev", exports=exports)
    for key in ("api-5xx", "api-latency-p99"):
        alarm = one(stack, "aws:cloudwatch/metricAlarm:MetricAlarm", f"alarms-primary-{key}")
        assert alarm["inputs"]["dimensions"] == {"ApiName": "renamed-api-use1", "Stage": "dev"}
