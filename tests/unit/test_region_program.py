"""R1–R3 on the real trading-region program under mocks, fed with the real data plan's exports."""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from shared.contracts import region as region_contract
from shared.errors import ConfigError
from shared.plan import runner
from shared.plan.schema import PLAN_FILE_SCHEMA
from tests.planning import of_type, one
from tests.unit.region_planning import committed_region_plan, data_exports, region_plan

STACKS = ["dev-us-east-1", "dev-us-east-2", "prod-us-east-1", "prod-us-east-2"]
OTHER = {"us-east-1": "us-east-2", "us-east-2": "us-east-1"}
CODES = {"us-east-1": "use1", "us-east-2": "use2"}
ACCOUNT = "123456789012"

FUNCTION = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"
STAGE = "aws:apigateway/stage:Stage"
ACCOUNT_TYPE = "aws:apigateway/account:Account"


def split(stack: str) -> tuple[str, str]:
    env, region = stack.split("-", 1)
    return env, region


def regional(stack: str) -> dict:
    env, region = split(stack)
    return data_exports(env)["regional"][region]


def policy(stack_plan, name: str) -> dict:
    return json.loads(one(stack_plan, ROLE_POLICY, name)["inputs"]["policy"])


@pytest.fixture(params=STACKS)
def stack(request) -> str:
    return request.param


@pytest.fixture
def plan(stack):
    return committed_region_plan(stack)


# --- R1 ---------------------------------------------------------------------------------------
def test_one_provider_in_the_stack_region_carrying_the_data_stack_tags(stack, plan):
    env, region = split(stack)
    providers = of_type(plan, "pulumi:providers:aws")

    assert [(p["name"], p["inputs"]["region"]) for p in providers] == [
        (f"region-aws-{CODES[region]}", region)
    ]
    assert json.loads(providers[0]["inputs"]["defaultTags"]) == {"tags": data_exports(env)["tags"]}
    aws = [r for r in plan.resources if r["type"].startswith("aws:")]
    assert len(aws) == 38
    assert {(r["provider"], r["region"]) for r in aws} == {(providers[0]["urn"], region)}
    assert {c.provider for c in plan.monitor.invocations} == {providers[0]["urn"]}


@pytest.mark.parametrize(
    ("stack", "region", "data_regions"),
    [
        ("dev-us-west-2", "us-west-2", ["us-east-1", "us-east-2"]),
        ("dev-us-east-2", "us-east-2", ["us-east-1", "us-west-2"]),
    ],
)
def test_region_outside_the_data_stack_fails_before_anything_is_created(stack, region, data_regions):
    exports = data_exports("dev")
    exports["regions"] = data_regions
    captured = {}
    original = runner.RecordingMonitor

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, mocks):
            super().__init__(mocks)
            captured["monitor"] = self

    runner.RecordingMonitor = Spy
    try:
        with pytest.raises(ConfigError) as err:
            region_plan("dev-us-east-1", {"aws:region": region}, exports=exports, stack_name=stack)
    finally:
        runner.RecordingMonitor = original

    assert str(err.value) == (
        f"config aws:region={region!r} is not allowed: one of the regions of data stack "
        f"organization/trading-data/dev: {', '.join(data_regions)}"
    )
    # Only the read of the data stack; no provider, component or AWS resource.
    assert [(r.type, r.name) for r in captured["monitor"].registrations] == [
        ("pulumi:pulumi:StackReference", "organization/trading-data/dev")
    ]


# --- R2: functions ------------------------------------------------------------------------------
@pytest.mark.parametrize("component", ["api", "processor"])
def test_functions_sit_in_this_regions_private_subnets_with_the_app_security_group(stack, plan, component):
    env, region = split(stack)
    data = regional(stack)
    other = data_exports(env)["regional"][OTHER[region]]
    fn = one(plan, FUNCTION, f"{component}-function")["inputs"]

    assert fn["vpcConfig"] == {
        "subnetIds": data["privateSubnetIds"],
        "securityGroupIds": [data["appSecurityGroupId"]],
    }
    assert set(fn["vpcConfig"]["subnetIds"]).isdisjoint(other["privateSubnetIds"])
    assert fn["kmsKeyArn"] == data["kmsKeyArn"]
    assert fn["tracingConfig"] == {"mode": "Active"}
    assert (fn["runtime"], fn["architectures"], fn["handler"]) == (
        "python3.13",
        ["arm64"],
        "handler.lambda_handler",
    )
    assert fn["name"] == f"trading-{env}-{component}-{CODES[region]}"


def test_function_environment_names_this_regions_data(stack, plan):
    env, region = split(stack)
    data = regional(stack)
    top = data_exports(env)
    for component in ("api", "processor"):
        variables = one(plan, FUNCTION, f"{component}-function")["inputs"]["environment"]["variables"]
        assert variables == {
            "TABLE_NAME": top["tableName"],
            "DB_SECRET_ARN": data["secretArn"],
            "DB_WRITER_ENDPOINT": top["globalWriterEndpoint"],
            "DB_READER_ENDPOINT": data["readerEndpoint"],
            "DB_SSL": "require",
            "REGION_NAME": region,
            "ENVIRONMENT": env,
            "POWERTOOLS_SERVICE_NAME": f"trading-{component}",
        }


@pytest.mark.parametrize(
    ("overrides", "api_timeout", "processor_timeout"),
    [
        ({}, 15, 300),
        (
            {"trading-region:apiTimeoutSeconds": "29", "trading-region:processorTimeoutSeconds": "600"},
            29,
            600,
        ),
    ],
)
def test_timeouts(overrides, api_timeout, processor_timeout):
    plan = region_plan("dev-us-east-1", overrides)

    assert one(plan, FUNCTION, "api-function")["inputs"]["timeout"] == api_timeout
    assert one(plan, FUNCTION, "processor-function")["inputs"]["timeout"] == processor_timeout
    integrations = of_type(plan, "aws:apigateway/integration:Integration")
    assert {i["inputs"]["timeoutMilliseconds"] for i in integrations} == {29_000}


def test_api_role_names_exactly_the_secret_key_and_table_replica(stack, plan):
    data = regional(stack)

    assert policy(plan, "api-data") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadDatabaseSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [data["secretArn"]],
            },
            {
                "Sid": "UseRegionalKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [data["kmsKeyArn"]],
            },
            {
                "Sid": "OrdersTableReplica",
                "Effect": "Allow",
                "Action": ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"],
                "Resource": [data["tableReplicaArn"]],
            },
        ],
    }


def test_processor_role_names_exactly_the_secret_key_replica_stream_and_queue(stack, plan):
    env, region = split(stack)
    data = regional(stack)
    queue = one(plan, "aws:sqs/queue:Queue", "processor-failures")
    queue_arn = f"arn:aws:sqs:{region}:{ACCOUNT}:trading-{env}-processor-failures-{CODES[region]}"

    assert queue["inputs"]["kmsMasterKeyId"] == data["kmsKeyArn"]
    assert policy(plan, "processor-data")["Statement"] == [
        {
            "Sid": "ReadDatabaseSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [data["secretArn"]],
        },
        {
            "Sid": "UseRegionalKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [data["kmsKeyArn"]],
        },
        {
            "Sid": "OrdersTableReplica",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Resource": [data["tableReplicaArn"]],
        },
        {
            "Sid": "ReplicaStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": [data["tableStreamArn"]],
        },
        {
            "Sid": "OnFailureDestination",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [queue_arn],
        },
    ]


def test_no_wildcard_resource_on_data_and_wildcards_only_where_aws_allows_nothing_else(plan):
    wildcard_actions = set()
    for r in of_type(plan, ROLE_POLICY):
        for statement in json.loads(r["inputs"]["policy"])["Statement"]:
            if statement["Resource"] == "*":
                wildcard_actions.update(statement["Action"])
    assert {a.split(":")[0] for a in wildcard_actions} == {"ec2", "xray"}
    assert plan.document["policy"] == []


@pytest.mark.parametrize("component", ["api", "processor"])
def test_roles_are_assumed_only_by_lambda_for_this_account(plan, component):
    role = one(plan, "aws:iam/role:Role", f"{component}-role")

    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]


@pytest.mark.parametrize("component", ["api", "processor"])
def test_vpc_access_policy_is_attached_before_the_function(plan, component):
    vpc_access = one(plan, ROLE_POLICY, f"{component}-vpc-access")
    role = one(plan, "aws:iam/role:Role", f"{component}-role")
    fn = one(plan, FUNCTION, f"{component}-function")

    assert json.loads(vpc_access["inputs"]["policy"])["Statement"] == [
        {
            "Sid": "VpcNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:AssignPrivateIpAddresses",
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": "*",
        }
    ]
    assert vpc_access["inputs"]["role"] == role["inputs"]["name"]
    assert vpc_access["urn"] in fn["dependencies"]
    assert one(plan, ROLE_POLICY, f"{component}-data")["urn"] in fn["dependencies"]
    urns = [r["urn"] for r in plan.resources]
    assert urns.index(vpc_access["urn"]) < urns.index(fn["urn"])


@pytest.mark.parametrize("component", ["api", "processor"])
def test_log_groups_have_retention_and_the_regional_key(stack, plan, component):
    env, region = split(stack)
    group = one(plan, LOG_GROUP, f"{component}-logs")
    fn = one(plan, FUNCTION, f"{component}-function")
    name = f"/aws/lambda/trading-{env}-{component}-{CODES[region]}"

    assert group["inputs"] == {
        "name": name,
        "retentionInDays": 365 if env == "prod" else 30,
        "kmsKeyId": regional(stack)["kmsKeyArn"],
    }
    assert fn["inputs"]["loggingConfig"] == {
        "logFormat": "JSON",
        "logGroup": name,
        "applicationLogLevel": "INFO",
    }
    assert json.loads(one(plan, ROLE_POLICY, f"{component}-observability")["inputs"]["policy"])["Statement"][
        0
    ]["Resource"] == [
        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}",
        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}:log-stream:*",
    ]


def test_processor_reads_the_local_replica_stream_filtered_on_its_origin(stack, plan):
    env, region = split(stack)
    data = regional(stack)
    mapping = one(plan, ESM, "processor-stream")
    inputs = mapping["inputs"]

    assert inputs["eventSourceArn"] == data["tableStreamArn"]
    assert f":{region}:" in inputs["eventSourceArn"]
    assert inputs["functionName"] == (
        f"arn:aws:lambda:{region}:{ACCOUNT}:function:trading-{env}-processor-{CODES[region]}"
    )
    assert [json.loads(f["pattern"]) for f in inputs["filterCriteria"]["filters"]] == [
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {"origin_region": {"S": [region]}, "status": {"S": ["ACCEPTED"]}}},
        }
    ]
    assert inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_arn = f"arn:aws:sqs:{region}:{ACCOUNT}:trading-{env}-processor-failures-{CODES[region]}"
    assert inputs["destinationConfig"] == {"onFailure": {"destinationArn": queue_arn}}
    # Retried until settled or an hour old (a failover fits many times), split on errors.
    assert (
        inputs["maximumRetryAttempts"],
        inputs["maximumRecordAgeInSeconds"],
        inputs["bisectBatchOnFunctionError"],
        inputs["startingPosition"],
    ) == (-1, 3600, True, "TRIM_HORIZON")
    assert inputs["kmsKeyArn"] == data["kmsKeyArn"]
    assert one(plan, ROLE_POLICY, "processor-data")["urn"] in mapping["dependencies"]


# --- R3: API Gateway ------------------------------------------------------------------------------
def test_rest_api_routes_proxy_to_the_api_function(stack, plan):
    env, region = split(stack)
    api = one(plan, "aws:apigateway/restApi:RestApi", "api-gateway-rest-api")
    fn_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:trading-{env}-api-{CODES[region]}"

    assert api["inputs"]["endpointConfiguration"] == {"types": "REGIONAL"}
    assert api["inputs"]["name"] == f"trading-{env}-api-{CODES[region]}"
    resources = {
        r["name"]: r["inputs"]["pathPart"] for r in of_type(plan, "aws:apigateway/resource:Resource")
    }
    assert resources == {
        "api-gateway-orders": "orders",
        "api-gateway-order": "{id}",
        "api-gateway-health": "health",
        "api-gateway-health-active": "active",
    }
    methods = {
        m["name"]: (m["inputs"]["httpMethod"], m["inputs"]["authorization"])
        for m in of_type(plan, "aws:apigateway/method:Method")
    }
    assert methods == {
        "api-gateway-post-orders": ("POST", "AWS_IAM"),
        "api-gateway-get-order": ("GET", "AWS_IAM"),
        "api-gateway-get-health": ("GET", "NONE"),
        "api-gateway-get-health-active": ("GET", "NONE"),
    }
    for integration in of_type(plan, "aws:apigateway/integration:Integration"):
        assert integration["inputs"]["type"] == "AWS_PROXY"
        assert integration["inputs"]["integrationHttpMethod"] == "POST"
        assert integration["inputs"]["uri"] == (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"
        )


def test_invoke_permissions_are_scoped_to_the_apis_execution_arn(stack, plan):
    env, region = split(stack)
    api_id = one(plan, "aws:apigateway/restApi:RestApi", "api-gateway-rest-api")
    execution_arn = f"arn:aws:execute-api:{region}:{ACCOUNT}:{plan.outputs['apiId']}"
    permissions = of_type(plan, "aws:lambda/permission:Permission")

    assert api_id["urn"] in permissions[0]["dependencies"]
    assert sorted(p["inputs"]["sourceArn"] for p in permissions) == sorted(
        f"{execution_arn}/{env}/{route}"
        for route in ("POST/orders", "GET/orders/*", "GET/health", "GET/health/active")
    )
    for p in permissions:
        assert (p["inputs"]["action"], p["inputs"]["principal"], p["inputs"]["function"]) == (
            "lambda:InvokeFunction",
            "apigateway.amazonaws.com",
            f"trading-{env}-api-{CODES[region]}",
        )


def test_stage_named_after_the_environment_with_json_access_logs(stack, plan):
    env, region = split(stack)
    stage = one(plan, STAGE, "api-gateway-stage")
    deployment = one(plan, "aws:apigateway/deployment:Deployment", "api-gateway-deployment")
    access_logs = one(plan, LOG_GROUP, "api-gateway-access-logs")
    log_format = json.loads(stage["inputs"]["accessLogSettings"]["format"])

    assert stage["inputs"]["stageName"] == env
    assert stage["inputs"]["xrayTracingEnabled"] is True
    assert deployment["urn"] in stage["dependencies"]
    assert stage["inputs"]["accessLogSettings"]["destinationArn"] == (
        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/apigateway/trading-{env}-api-{CODES[region]}/access"
    )
    assert access_logs["inputs"]["kmsKeyId"] == regional(stack)["kmsKeyArn"]
    assert access_logs["inputs"]["retentionInDays"] == (365 if env == "prod" else 30)
    assert {
        "requestId": "$context.requestId",
        "status": "$context.status",
        "sourceIp": "$context.identity.sourceIp",
        "integrationError": "$context.integration.error",
        "responseLatency": "$context.responseLatency",
    }.items() <= log_format.items()
    methods = [m["urn"] for m in of_type(plan, "aws:apigateway/method:Method")]
    integrations = [i["urn"] for i in of_type(plan, "aws:apigateway/integration:Integration")]
    assert set(methods + integrations) <= set(deployment["dependencies"])
    api_fn = one(plan, FUNCTION, "api-function")
    assert set(deployment["inputs"]["triggers"]) == {"routes", "function"}
    assert deployment["inputs"]["triggers"]["function"].endswith(
        f":function:{api_fn['inputs']['name']}/invocations"
    )


@pytest.mark.parametrize(("rate", "burst"), [("50", "100"), ("1234.5", "77")])
def test_throttling_and_metrics_come_from_config(rate, burst):
    plan = region_plan(
        "dev-us-east-2",
        {"trading-region:throttleRateLimit": rate, "trading-region:throttleBurstLimit": burst},
    )
    settings = one(plan, "aws:apigateway/methodSettings:MethodSettings", "api-gateway-method-settings")

    assert settings["inputs"]["methodPath"] == "*/*"
    assert settings["inputs"]["stageName"] == "dev"
    assert settings["inputs"]["settings"] == {
        "metricsEnabled": True,
        "loggingLevel": "OFF",
        "dataTraceEnabled": False,
        "throttlingRateLimit": float(rate),
        "throttlingBurstLimit": int(burst),
    }


def test_account_role_is_managed_retained_and_the_stage_depends_on_it(stack, plan):
    env, region = split(stack)
    account = one(plan, ACCOUNT_TYPE, "api-gateway-account")
    role = one(plan, "aws:iam/role:Role", "api-gateway-cloudwatch-role")
    attachment = one(
        plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-gateway-cloudwatch-role-policy"
    )

    assert account["inputs"]["cloudwatchRoleArn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/trading-{env}-apigw-logs-{CODES[region]}"
    )
    assert (account["retainOnDelete"], role["retainOnDelete"], attachment["retainOnDelete"]) == (
        True,
        True,
        True,
    )
    assert attachment["inputs"]["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    )
    assert attachment["urn"] in account["dependencies"]
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    assert account["urn"] in one(plan, STAGE, "api-gateway-stage")["dependencies"]


def test_account_role_only_when_manage_api_gateway_account():
    plan = region_plan("dev-us-east-1", {"trading-region:manageApiGatewayAccount": "false"})

    assert of_type(plan, ACCOUNT_TYPE) == []
    assert sorted(r["name"] for r in of_type(plan, "aws:iam/role:Role")) == ["api-role", "processor-role"]
    assert of_type(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    assert all(
        ":aws:apigateway/account:" not in d for d in one(plan, STAGE, "api-gateway-stage")["dependencies"]
    )


# --- custom domain and the region contract --------------------------------------------------------
DOMAIN = {
    "trading-region:domainName": "api.trading.example.com",
    "trading-region:certificateDomain": "*.trading.example.com",
    "trading-region:hostedZoneId": "Z0123456789ABCDEFGHIJ",
}


@pytest.mark.parametrize("with_zone", [True, False], ids=["zone", "validated-elsewhere"])
def test_custom_domain_with_certificate_when_a_domain_is_set(with_zone):
    overrides = dict(DOMAIN) if with_zone else {**DOMAIN, "trading-region:hostedZoneId": None}
    plan = region_plan("prod-us-east-2", overrides)
    certificate = one(plan, "aws:acm/certificate:Certificate", "api-gateway-certificate")
    validation = one(
        plan, "aws:acm/certificateValidation:CertificateValidation", "api-gateway-certificate-validation"
    )
    domain = one(plan, "aws:apigateway/domainName:DomainName", "api-gateway-domain")
    mapping = one(plan, "aws:apigateway/basePathMapping:BasePathMapping", "api-gateway-base-path")
    records = of_type(plan, "aws:route53/record:Record")

    assert certificate["region"] == "us-east-2"
    assert validation["inputs"]["certificateArn"].startswith(
        "arn:aws:acm:us-east-2:123456789012:certificate/"
    )
    assert certificate["urn"] in validation["dependencies"]
    assert certificate["inputs"] == {"domainName": "*.trading.example.com", "validationMethod": "DNS"}
    if with_zone:
        assert [
            (r["inputs"]["zoneId"], r["inputs"]["type"], r["inputs"]["allowOverwrite"]) for r in records
        ] == [("Z0123456789ABCDEFGHIJ", "CNAME", True)]
        assert records[0]["inputs"]["name"].endswith(".trading.example.com.")
        assert records[0]["urn"] in validation["dependencies"]
        # The other region's certificate validates (and renews) through the same record.
        assert records[0]["retainOnDelete"] is True
    else:
        assert records == []
        assert "validationRecordFqdns" not in validation["inputs"]
    assert validation["urn"] in domain["dependencies"]
    assert domain["inputs"] == {
        "domainName": "api.trading.example.com",
        "regionalCertificateArn": validation["inputs"]["certificateArn"],
        "endpointConfiguration": {"types": "REGIONAL"},
        "securityPolicy": "TLS_1_2",
    }
    assert mapping["inputs"] == {
        "domainName": "api.trading.example.com",
        "stageName": "prod",
        "restApi": plan.outputs["apiId"],
    }
    assert plan.outputs["customDomainTarget"].startswith("d-")
    assert plan.outputs["customDomainTarget"].endswith(".execute-api.us-east-2.amazonaws.com")
    assert plan.outputs["customDomainZoneId"] == "ZOJJZC49E0EPZ"


def test_region_contract_outputs(stack, plan):
    env, region = split(stack)
    api_id = plan.outputs["apiId"]
    base = f"https://{api_id}.execute-api.{region}.amazonaws.com/{env}"

    assert set(plan.outputs) == set(region_contract.REQUIRED_KEYS)
    assert plan.outputs == {
        "region": region,
        "apiId": api_id,
        "apiName": f"trading-{env}-api-{CODES[region]}",
        "stageName": env,
        "invokeUrl": base,
        "healthUrl": f"{base}/health",
        "activeHealthUrl": f"{base}/health/active",
        "apiFunctionName": f"trading-{env}-api-{CODES[region]}",
        "apiFunctionArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:trading-{env}-api-{CODES[region]}",
        "processorFunctionName": f"trading-{env}-processor-{CODES[region]}",
        "processorFunctionArn": (
            f"arn:aws:lambda:{region}:{ACCOUNT}:function:trading-{env}-processor-{CODES[region]}"
        ),
        "accessLogGroupName": f"/aws/apigateway/trading-{env}-api-{CODES[region]}/access",
    }


def test_every_child_has_its_component_as_parent(plan):
    components = {r["urn"]: r["name"] for r in plan.resources if r["type"].startswith("trading:region:")}
    assert sorted(components.values()) == ["api", "api-gateway", "processor"]
    for r in plan.resources:
        if r["type"] in (FUNCTION, ROLE_POLICY, STAGE) or r["type"].startswith("aws:apigateway/"):
            assert r["parent"] in components, r["urn"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_make_plan_writes_the_region_plan_files_fed_by_the_data_stack(tmp_path, env):
    from shared.plan.environment import plan_environment, write_plan_files
    from tests.planning import REPO

    environment = plan_environment(REPO, env)
    paths = write_plan_files(environment, tmp_path)

    assert [p.name for p in paths] == [
        f"trading-data.{env}.json",
        f"trading-region.{env}-us-east-1.json",
        f"trading-region.{env}-us-east-2.json",
        f"trading-edge.{env}.json",  # the edge stack is planned after the regions
    ]
    data_outputs = json.loads(paths[0].read_text())["outputs"]
    for path, region in zip(paths[1:3], ("us-east-1", "us-east-2"), strict=True):
        document = json.loads(path.read_text())
        jsonschema.validate(document, PLAN_FILE_SCHEMA)
        assert (document["project"], document["stack"]) == ("trading-region", f"{env}-{region}")
        assert document["config"]["aws:region"] == region
        assert document["outputs"]["region"] == region
        assert document["policy"] == []
        fn = next(r for r in document["resources"] if r["name"] == "api-function")
        assert fn["inputs"]["vpcConfig"]["subnetIds"] == data_outputs["regional"][region]["privateSubnetIds"]


def test_the_data_stack_reference_is_in_the_plan_and_every_dependency_is_a_planned_urn(stack, plan):
    env, _ = split(stack)
    reference = one(plan, "pulumi:pulumi:StackReference", f"organization/trading-data/{env}")
    urns = {r["urn"] for r in plan.resources}

    assert reference["inputs"] == {"name": f"organization/trading-data/{env}"}
    assert reference["region"] == ""
    for r in plan.resources:
        assert set(r["dependencies"]) <= urns, r["urn"]
    assert (
        reference["urn"]
        in one(plan, "pulumi:providers:aws", f"region-aws-{CODES[split(stack)[1]]}")["dependencies"]
    )


@pytest.mark.parametrize("component", ["api", "processor"])
def test_function_environment_is_what_the_runtime_settings_read(stack, plan, component):
    import sys

    from tests.planning import REPO

    common = str(REPO / "projects" / "region" / "functions" / "common")
    if common not in sys.path:
        sys.path.insert(0, common)
    from trading_runtime.settings import RuntimeSettings

    env, region = split(stack)
    variables = one(plan, FUNCTION, f"{component}-function")["inputs"]["environment"]["variables"]

    settings = RuntimeSettings.from_env({**variables, "AWS_REGION": region})

    assert (settings.region, settings.environment, settings.db_ssl) == (region, env, "require")
    assert settings.table_name == data_exports(env)["tableName"]
    assert settings.db_reader_endpoint == regional(stack)["readerEndpoint"]
    assert f".{region}." in settings.db_reader_endpoint


def _changed_routes(**change):
    from region_tier import api

    first, *rest = api.ROUTES
    return (dataclasses.replace(first, **change), *rest)


@pytest.mark.parametrize(
    "change",
    [
        {"routes": "authorization"},
        {"routes": "path"},
        {"routes": "method"},
        {"integration": "timeoutMilliseconds"},
        {"integration": "type"},
    ],
    ids=lambda c: "-".join(*c.items()),
)
def test_deployment_fingerprint_changes_with_any_method_or_integration_setting(change):
    from region_tier import api

    what, field = next(iter(change.items()))
    if what == "routes":
        value = {"authorization": "NONE", "path": "/orders/{orderId}", "method": "PUT"}[field]
        changed = api.routes_fingerprint(routes=_changed_routes(**{field: value}))
    else:
        changed = api.routes_fingerprint(integration={**api.INTEGRATION_SETTINGS, field: "other"})

    assert api.routes_fingerprint() == api.routes_fingerprint(api.ROUTES, dict(api.INTEGRATION_SETTINGS))
    assert changed != api.routes_fingerprint()


def test_deployment_is_triggered_by_the_fingerprint_of_routes_and_integrations(plan):
    from region_tier import api

    deployment = one(plan, "aws:apigateway/deployment:Deployment", "api-gateway-deployment")
    integrations = of_type(plan, "aws:apigateway/integration:Integration")

    assert deployment["inputs"]["triggers"]["routes"] == api.routes_fingerprint()
    assert {
        (i["inputs"]["type"], i["inputs"]["integrationHttpMethod"], i["inputs"]["timeoutMilliseconds"])
        for i in integrations
    } == {(api.INTEGRATION_SETTINGS["type"], "POST", api.INTEGRATION_SETTINGS["timeoutMilliseconds"])}
