"""Every rule of issue 6 on a good and a bad fixture: the bad one is flagged by that rule's id
with exactly these messages, the good one not at all (SPEC S5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.policy.rules import RULES, ResourceView, evaluate, function_role
from tests.policy.fixtures import (
    PRIMARY,
    SECONDARY,
    arn,
    canary,
    composite_alarm,
    doc,
    function,
    health_check,
    method_settings,
    metric_alarm,
    mutate,
    orchestrator,
    res,
    sns_permission,
    stage,
    stream_mapping,
    subscription,
    topic,
    topic_arn,
)

RULE_BY_ID = {r.id: r for r in RULES}


def messages(rule_id: str, document: dict[str, Any]) -> list[str]:
    return [f["message"] for f in evaluate(document, [RULE_BY_ID[rule_id]])]


def _set(path: str, value: Any):
    def change(inputs: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = inputs
        for p in parents:
            target = target.setdefault(p, {})
        if value is _DELETE:
            target.pop(leaf, None)
        else:
            target[leaf] = value

    return change


_DELETE = object()

HC_ALARM = metric_alarm("hc-primary", PRIMARY, namespace="AWS/Route53", metric="HealthCheckStatus")
PRIMARY_DOWN = composite_alarm("primary-down-use2", SECONDARY, ["canary-primary-use2", "hc-mirror-use2"])
SECONDARY_CLUSTER = res(
    "aws:rds/cluster:Cluster",
    "cluster-secondary",
    {
        "engine": "aurora-postgresql",
        "globalClusterIdentifier": "trading-dev-global",
        "storageEncrypted": True,
        "kmsKeyId": arn("kms", SECONDARY, "key/k2"),
    },
    region=SECONDARY,
    project="trading-data",
)
RANDOM = res("random:index/randomPassword:RandomPassword", "master-password", {"length": 32}, region="")
PRIMARY_CLUSTER = res(
    "aws:rds/cluster:Cluster",
    "cluster-primary",
    {
        "engine": "aurora-postgresql",
        "masterUsername": "ledger",
        "masterPassword": "[secret]",
        "storageEncrypted": True,
        "kmsKeyId": arn("kms", PRIMARY, "key/k1"),
    },
    project="trading-data",
    dependencies=[RANDOM["urn"]],
)
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Sns",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "kms:Decrypt",
        },
        {
            "Sid": "CloudWatch",
            "Effect": "Allow",
            "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ],
}
KEY = res(
    "aws:kms/key:Key",
    "key",
    {"enableKeyRotation": True, "policy": json.dumps(KEY_POLICY)},
    project="trading-data",
)
TABLE_ARN = arn("dynamodb", PRIMARY, "table/trading-dev-orders")
SCOPED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Table", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [TABLE_ARN]}
    ],
}
ROLE = res(
    "aws:iam/role:Role",
    "api-role",
    {"inlinePolicies": [{"name": "data", "policy": json.dumps(SCOPED_POLICY)}]},
    project="trading-region",
)


def _role_with(statement: dict[str, Any]) -> dict[str, Any]:
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    return mutate(ROLE, _set("inlinePolicies", [{"name": "data", "policy": json.dumps(policy)}]))


def _stack(*resources: dict[str, Any]) -> dict[str, Any]:
    return doc(*resources)


CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str]]] = [
    # id, case, good document, bad document, messages of the rule on the bad one
    (
        "healthcheck-interval",
        "20 s",
        _stack(health_check(interval=10)),
        _stack(health_check(interval=20)),
        ["requestInterval is 20; Route 53 allows only [10, 30]"],
    ),
    (
        "healthcheck-shape",
        "HTTP on 80, no latency, two checkers",
        _stack(health_check()),
        _stack(
            mutate(
                health_check(),
                lambda i: i.update(
                    type="HTTP", port=80, measureLatency=False, regions=["us-east-1", "eu-west-1"]
                ),
            )
        ),
        [
            "type is 'HTTP', not HTTPS",
            "port is 80, not 443",
            "measureLatency is off",
            "2 checker region(s); at least 3 are needed",
        ],
    ),
    (
        "healthcheck-alarm-us-east-1",
        "in us-east-2",
        _stack(HC_ALARM),
        _stack(metric_alarm("hc-primary", SECONDARY, namespace="AWS/Route53", metric="HealthCheckStatus")),
        [
            "HealthCheckStatus alarm is in us-east-2; Route 53 publishes those metrics only in us-east-1, "
            "so it would never leave INSUFFICIENT_DATA"
        ],
    ),
    (
        "alarm-actions-same-region",
        "no actions",
        _stack(metric_alarm("api-5xx", SECONDARY)),
        _stack(mutate(metric_alarm("api-5xx", SECONDARY), lambda i: i.update(alarmActions=[], okActions=[]))),
        ["alarm has no alarmActions", "alarm has no okActions"],
    ),
    (
        "alarm-actions-same-region",
        "topic of another region",
        _stack(metric_alarm("api-5xx", SECONDARY)),
        _stack(metric_alarm("api-5xx", SECONDARY, topic_region=PRIMARY)),
        [
            f"alarmActions target {topic_arn(PRIMARY)} is in us-east-1, not the alarm's region us-east-2",
            f"okActions target {topic_arn(PRIMARY)} is in us-east-1, not the alarm's region us-east-2",
        ],
    ),
    (
        "alarm-actions-same-region",
        "composite with actions disabled and no OK action",
        _stack(PRIMARY_DOWN),
        _stack(mutate(PRIMARY_DOWN, lambda i: i.update(actionsEnabled=False, okActions=[]))),
        ["actionsEnabled is false", "alarm has no okActions"],
    ),
    (
        "alarm-missing-data-explicit",
        "default missing-data policy",
        _stack(metric_alarm("api-5xx", SECONDARY)),
        _stack(mutate(metric_alarm("api-5xx", SECONDARY), _set("treatMissingData", _DELETE))),
        ["treatMissingData is not set explicitly"],
    ),
    (
        "composite-alarm-or",
        "joined with AND",
        _stack(PRIMARY_DOWN),
        _stack(composite_alarm("primary-down-use2", SECONDARY, ["a", "b"], joiner="AND")),
        ["alarmRule joins alarms with AND: one failing signal must be enough (use OR)"],
    ),
    (
        "composite-alarm-or",
        "references an alarm of another region",
        _stack(PRIMARY_DOWN),
        _stack(
            mutate(
                PRIMARY_DOWN,
                _set(
                    "alarmRule", f'ALARM("{arn("cloudwatch", PRIMARY, "alarm:api-5xx-use1")}") OR ALARM("x")'
                ),
            )
        ),
        ["alarmRule references api-5xx-use1 in us-east-1; composites see only us-east-2"],
    ),
    (
        "composite-alarm-or",
        "NOT and OK terms",
        _stack(PRIMARY_DOWN),
        _stack(mutate(PRIMARY_DOWN, _set("alarmRule", 'ALARM("a") OR NOT OK("b")'))),
        ["alarmRule has terms other than OR of ALARM(): ['NOT', 'OK', 'b']"],
    ),
    (
        "canary-runtime-supported",
        "Python runtime",
        _stack(canary()),
        _stack(canary("syn-python-selenium-5.1")),
        [
            "canaryRuntime 'syn-python-selenium-5.1' is not a supported Node.js Synthetics runtime; "
            "allowed: syn-nodejs-puppeteer-15.0"
        ],
    ),
    (
        "canary-runtime-supported",
        "deprecated Node.js runtime",
        _stack(canary()),
        _stack(canary("syn-nodejs-puppeteer-7.0")),
        [
            "canaryRuntime 'syn-nodejs-puppeteer-7.0' is a deprecated Node.js Synthetics runtime; "
            "allowed: syn-nodejs-puppeteer-15.0"
        ],
    ),
    (
        "lambda-runtime-supported",
        "deprecated Python",
        _stack(function("api", timeout=29)),
        _stack(mutate(function("api", timeout=29), _set("runtime", "python3.9"))),
        [
            "lambdaRuntime 'python3.9' is a deprecated Lambda Python runtime; "
            "allowed: python3.12, python3.13, python3.14"
        ],
    ),
    (
        "function-timeout",
        "orchestrator 60 s",
        _stack(orchestrator(300)),
        _stack(orchestrator(60)),
        ["orchestrator timeout 60s is below the 300s a promotion and its bounded wait need"],
    ),
    (
        "function-timeout",
        "processor 30 s",
        _stack(function("processor", timeout=300)),
        _stack(function("processor", timeout=30)),
        ["processor timeout 30s is below the 300s a batch needs"],
    ),
    (
        "function-timeout",
        "processor without timeout (Lambda's 3 s default)",
        _stack(function("processor", timeout=300)),
        _stack(mutate(function("processor"), _set("timeout", _DELETE))),
        ["processor timeout 3s is below the 300s a batch needs"],
    ),
    (
        "function-timeout",
        "api 30 s",
        _stack(function("api", timeout=29)),
        _stack(function("api", timeout=30)),
        ["api timeout 30s exceeds API Gateway's 29s integration limit"],
    ),
    (
        "function-vpc-placement",
        "api outside the VPC",
        _stack(function("api", timeout=29)),
        _stack(function("api", timeout=29, vpc=False)),
        ["api function needs the database but has no vpcConfig with subnets and security groups"],
    ),
    (
        "function-vpc-placement",
        "processor with empty security groups",
        _stack(function("processor")),
        _stack(mutate(function("processor"), _set("vpcConfig.securityGroupIds", []))),
        ["processor function needs the database but has no vpcConfig with subnets and security groups"],
    ),
    (
        "function-vpc-placement",
        "orchestrator inside the VPC",
        _stack(orchestrator()),
        _stack(mutate(orchestrator(), _set("vpcConfig", {"subnetIds": ["s"], "securityGroupIds": ["g"]}))),
        ["orchestrator is in a VPC; it must reach AWS APIs and public endpoints while a region is down"],
    ),
    (
        "orchestrator-guards",
        "no reserved concurrency, no DLQ",
        _stack(orchestrator()),
        _stack(
            mutate(
                orchestrator(), lambda i: (i.pop("reservedConcurrentExecutions"), i.pop("deadLetterConfig"))
            )
        ),
        [
            "reservedConcurrentExecutions is None, not 1",
            "no dead-letter queue (deadLetterConfig.targetArn); a failed run would be silent",
        ],
    ),
    (
        "function-tracing-active",
        "processor without X-Ray",
        _stack(function("processor")),
        _stack(mutate(function("processor"), _set("tracingConfig.mode", "PassThrough"))),
        ["tracingConfig.mode is 'PassThrough', not 'Active'"],
    ),
    (
        "stream-mapping-guards",
        "whole-batch retries, no destination, no origin filter",
        _stack(stream_mapping()),
        _stack(
            mutate(
                stream_mapping(),
                lambda i: (
                    i.pop("functionResponseTypes"),
                    i.pop("destinationConfig"),
                    i.pop("filterCriteria"),
                ),
            )
        ),
        [
            "functionResponseTypes lacks ReportBatchItemFailures: one bad record retries the whole batch",
            "no on-failure destination: records that exhaust their retries would be dropped silently",
            "no filter criteria: the consumer would also process records of the other region",
        ],
    ),
    (
        "invoke-permission-scoped",
        "SNS without sourceArn",
        _stack(sns_permission()),
        _stack(mutate(sns_permission(), _set("sourceArn", _DELETE))),
        ["sns.amazonaws.com may invoke the function from any source (no sourceArn)"],
    ),
    (
        "invoke-permission-scoped",
        "API Gateway on every API of the account",
        _stack(
            mutate(
                sns_permission(),
                lambda i: i.update(
                    principal="apigateway.amazonaws.com",
                    sourceArn=arn("execute-api", SECONDARY, "a1b2c3/dev/GET/health"),
                ),
            )
        ),
        _stack(
            mutate(
                sns_permission(),
                lambda i: i.update(
                    principal="apigateway.amazonaws.com", sourceArn=arn("execute-api", SECONDARY, "*")
                ),
            )
        ),
        ["sourceArn allows every API of the account; scope it to the API's execution ARN"],
    ),
    (
        "api-regional-endpoint",
        "edge-optimised API",
        _stack(
            res("aws:apigateway/restApi:RestApi", "api", {"endpointConfiguration": {"types": "REGIONAL"}})
        ),
        _stack(res("aws:apigateway/restApi:RestApi", "api", {"endpointConfiguration": {"types": "EDGE"}})),
        ["endpoint types are ['EDGE'], not REGIONAL"],
    ),
    (
        "log-group-retention",
        "kept forever",
        _stack(
            res("aws:cloudwatch/logGroup:LogGroup", "logs", {"name": "/aws/lambda/x", "retentionInDays": 30})
        ),
        _stack(res("aws:cloudwatch/logGroup:LogGroup", "logs", {"name": "/aws/lambda/x"})),
        ["retentionInDays is not set: events are kept (and paid for) forever"],
    ),
    (
        "canary-shape",
        "keeps its Lambda, probes every 5 minutes",
        _stack(canary()),
        _stack(
            mutate(
                canary(), lambda i: i.update(deleteLambda=False, schedule={"expression": "rate(5 minutes)"})
            )
        ),
        [
            "deleteLambda is off: the canary's function and layer would outlive it",
            "schedule is 'rate(5 minutes)', not rate(1 minute)",
        ],
    ),
    (
        "stage-access-logs",
        "no access logs",
        _stack(stage()),
        _stack(mutate(stage(), _set("accessLogSettings", _DELETE))),
        ["stage has no access logs (accessLogSettings.destinationArn and format)"],
    ),
    (
        "stage-access-logs",
        "CLF format to another region",
        _stack(stage()),
        _stack(
            mutate(
                stage(),
                _set(
                    "accessLogSettings",
                    {"destinationArn": arn("logs", SECONDARY, "log-group:x"), "format": "$context.requestId"},
                ),
            )
        ),
        [
            "access log format is not a JSON object",
            "access logs go to us-east-2, not the stage's region us-east-1",
        ],
    ),
    (
        "stage-throttling",
        "no method settings",
        _stack(stage(), method_settings()),
        _stack(stage()),
        ["stage has no method settings on */* (throttling and metrics)"],
    ),
    (
        "stage-throttling",
        "zero rate, metrics off",
        _stack(stage(), method_settings()),
        _stack(stage(), mutate(method_settings(0), _set("settings.metricsEnabled", False))),
        [
            "method settings throttlingRateLimit is 0; throttling needs a positive limit",
            "method settings do not enable metrics",
        ],
    ),
    (
        "cross-region-subscription",
        "no subscription",
        _stack(topic(PRIMARY), topic(SECONDARY), orchestrator(), subscription(), sns_permission()),
        _stack(topic(PRIMARY), topic(SECONDARY), orchestrator(), sns_permission()),
        ["no subscription from the us-east-1 topic to the orchestrator in us-east-2"],
    ),
    (
        "cross-region-subscription",
        "subscription in the function's region, permission in the topic's",
        _stack(topic(PRIMARY), topic(SECONDARY), orchestrator(), subscription(), sns_permission()),
        _stack(
            topic(PRIMARY), topic(SECONDARY), orchestrator(), subscription(SECONDARY), sns_permission(PRIMARY)
        ),
        [
            "subscription is created in us-east-2, not in its topic's region us-east-1",
            "invoke permission is in us-east-1, not the function's us-east-2",
        ],
    ),
    (
        "cross-region-subscription",
        "no invoke permission for the topic",
        _stack(topic(PRIMARY), topic(SECONDARY), orchestrator(), subscription(), sns_permission()),
        _stack(topic(PRIMARY), topic(SECONDARY), orchestrator(), subscription()),
        ["no lambda.Permission lets that topic (as sourceArn) invoke the orchestrator"],
    ),
    (
        "password-generated",
        "literal password",
        doc(RANDOM, PRIMARY_CLUSTER),
        doc(
            RANDOM, mutate({**PRIMARY_CLUSTER, "dependencies": []}, _set("masterPassword", "hunter2hunter2"))
        ),
        [
            "masterPassword does not come from a random.RandomPassword (literal or config)",
            "masterPassword is a plain value, not a secret",
        ],
    ),
    (
        "no-managed-master-password",
        "managed password on the primary",
        doc(PRIMARY_CLUSTER),
        doc(mutate(PRIMARY_CLUSTER, _set("manageMasterUserPassword", True))),
        [
            "manageMasterUserPassword is set; Aurora global databases don't support the RDS-managed "
            "password (generate it with pulumi-random and store it in Secrets Manager)"
        ],
    ),
    (
        "cmk-encryption-rds",
        "unencrypted secondary",
        doc(SECONDARY_CLUSTER),
        doc(mutate(SECONDARY_CLUSTER, lambda i: (i.pop("storageEncrypted"), i.pop("kmsKeyId")))),
        [
            "cluster storage is not encrypted (storageEncrypted must be true)",
            "cluster storage is not encrypted with a customer-managed KMS key",
        ],
    ),
    (
        "cmk-encryption-rds",
        "secondary with the primary's key",
        doc(SECONDARY_CLUSTER),
        doc(mutate(SECONDARY_CLUSTER, _set("kmsKeyId", arn("kms", PRIMARY, "key/k1")))),
        ["cluster storage uses a KMS key of us-east-1, not of its own region us-east-2"],
    ),
    (
        "cmk-encryption-sns",
        "AWS-managed key",
        _stack(topic(SECONDARY)),
        _stack(mutate(topic(SECONDARY), _set("kmsMasterKeyId", "alias/aws/sns"))),
        ["topic uses the AWS-managed key, which CloudWatch alarms cannot use"],
    ),
    (
        "sns-key-usable-by-cloudwatch",
        "key admits SNS only",
        doc(KEY),
        doc(
            mutate(
                KEY,
                _set("policy", json.dumps({"Statement": [KEY_POLICY["Statement"][0]]})),
            )
        ),
        [
            "key policy admits SNS but not cloudwatch.amazonaws.com for "
            "['kms:Decrypt', 'kms:GenerateDataKey*']: an encrypted topic would accept the alarm's "
            "publish and deliver nothing"
        ],
    ),
    (
        "no-wildcard-on-data",
        "service wildcard in an inline role policy",
        doc(ROLE),
        doc(_role_with({"Sid": "All", "Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN})),
        ["statement All grants a wildcard action ['dynamodb:*']"],
    ),
    (
        "no-wildcard-on-data",
        "data action on every resource",
        doc(ROLE),
        doc(_role_with({"Sid": "Read", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"})),
        ["statement Read grants ['dynamodb:GetItem'] on '*'"],
    ),
    (
        "no-wildcard-on-data",
        "listing that IAM can scope (and one it cannot, which is fine)",
        doc(
            _role_with({"Sid": "List", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"})
        ),
        doc(
            _role_with(
                {
                    "Sid": "List",
                    "Effect": "Allow",
                    "Action": ["s3:ListAllMyBuckets", "s3:ListBucket"],
                    "Resource": "*",
                }
            )
        ),
        ["statement List grants ['s3:ListBucket'] on '*'"],
    ),
    (
        "no-wildcard-on-data",
        "AWS-managed full-access policy",
        doc(
            res(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "vpc-access",
                {
                    "role": "r",
                    "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                },
            )
        ),
        doc(
            res(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "ddb",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"},
            )
        ),
        ["attaches the AWS-managed policy AmazonDynamoDBFullAccess, which grants '*' on data services"],
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "case", "good", "bad", "expected"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES]
)
def test_bad_fixture_flagged_by_its_rule_good_one_not(
    rule_id: str, case: str, good: dict[str, Any], bad: dict[str, Any], expected: list[str]
) -> None:
    assert messages(rule_id, good) == []
    assert messages(rule_id, bad) == expected
    # and in the full evaluation, under that rule's id
    assert {f["rule"] for f in evaluate(bad) if f["message"] in expected} == {rule_id}


def test_every_issue_6_rule_has_a_case() -> None:
    issue_6 = {
        "healthcheck-interval",
        "healthcheck-shape",
        "healthcheck-alarm-us-east-1",
        "alarm-actions-same-region",
        "alarm-missing-data-explicit",
        "composite-alarm-or",
        "canary-runtime-supported",
        "lambda-runtime-supported",
        "function-timeout",
        "function-vpc-placement",
        "orchestrator-guards",
        "stage-access-logs",
        "stage-throttling",
        "cross-region-subscription",
        "password-generated",
        "no-managed-master-password",
        "sns-key-usable-by-cloudwatch",
        "no-wildcard-on-data",
        "function-tracing-active",
        "stream-mapping-guards",
        "invoke-permission-scoped",
        "api-regional-endpoint",
        "log-group-retention",
        "canary-shape",
    }
    assert issue_6 <= set(RULE_BY_ID)
    assert issue_6 <= {c[0] for c in CASES}


@pytest.mark.parametrize(
    ("inputs", "name", "role"),
    [
        ({"name": "trading-dev-api-use1"}, "x", "api"),
        ({"name": "trading-prod-processor-use2"}, "x", "processor"),
        ({"name": "trading-dev-orchestrator-use2"}, "x", "orchestrator"),
        ({"name": "trading-dev-failover-use2"}, "x", "orchestrator"),
        # the environment token is skipped: an environment named "api" is not a role
        ({"name": "trading-api-processor-use1"}, "x", "processor"),
        ({"name": "trading-api-ledger-use1"}, "x", None),
        ({}, "order-api", "api"),
        ({"name": "trading-dev-worker-use1", "tags": {"Component": "processor"}}, "x", "processor"),
        ({"name": "trading-dev-canary-use1"}, "x", None),
    ],
)
def test_function_role_convention(inputs: dict[str, Any], name: str, role: str | None) -> None:
    view = ResourceView(
        urn="u", type="aws:lambda/function:Function", name=name, region=PRIMARY, inputs=inputs
    )
    assert function_role(view) == role


def test_the_good_edge_fixture_passes_every_rule() -> None:
    from tests.policy.fixtures import edge_document

    assert evaluate(edge_document()) == []
