"""trading-edge: health checks, DNS failover, SNS, alarms, canaries and the failover orchestrator.

Reads the data stack (regions, tags, data-tier identifiers) and each region stack through the
contracts in ``shared/contracts``, and exports the edge contract.
"""

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
from edge_tier.alarms import (
    PrimaryDownAlarm,
    PrimaryDownArgs,
    RegionalAlarms,
    RegionalAlarmsArgs,
    regional_specs,
)
from edge_tier.canary import RegionalCanary, RegionalCanaryArgs, build_canary_zip
from edge_tier.dns import FailoverRecord, FailoverRecordArgs
from edge_tier.health import METRICS_REGION, RegionalHealthCheck, RegionalHealthCheckArgs
from edge_tier.orchestrator import FailoverOrchestrator, OrchestratorArgs
from edge_tier.sides import PRIMARY, SECONDARY, Side, checked_url, pick_rule_id, side_provider
from edge_tier.topics import OpsTopic, OpsTopicArgs, alerts_key_policy

from shared.aws_context import AwsContext
from shared.contracts import data as data_contract
from shared.contracts import region as region_contract
from shared.contracts.data import DataContractReader
from shared.contracts.edge import EdgeContract, export_edge_contract
from shared.contracts.region import RegionContractReader
from shared.naming import physical_name
from shared.settings import load_settings
from shared.settings.edge import EdgeSettings

settings: EdgeSettings = load_settings(EdgeSettings)
env = settings.environment
data = DataContractReader(pulumi.StackReference("data", stack_name=settings.data_stack_name))
tags = data.get(data_contract.TAGS)
regions = {
    PRIMARY: data.get(data_contract.PRIMARY_REGION),
    SECONDARY: data.get(data_contract.SECONDARY_REGION),
}

# Route 53 health-check metrics exist only in us-east-1, whatever the configured regions are.
metrics_provider = side_provider("edge-aws-route53-metrics", METRICS_REGION, tags)
context = AwsContext.lookup(metrics_provider)

sides: dict[str, Side] = {}
for index, role in enumerate((PRIMARY, SECONDARY)):
    # mypy cannot infer a lambda with a default argument (it binds this iteration's index).
    stack_name: pulumi.Output[str] = regions[role].apply(
        lambda region, i=index: settings.region_stack_name(i, region)  # type: ignore[misc]
    )
    sides[role] = Side(
        role=role,
        region=regions[role],
        provider=side_provider(f"edge-aws-{role}", regions[role], tags),
        data=data,
        # The SDK annotates stack_name as str; it is a resource input, so an Output resolves.
        stack=RegionContractReader(pulumi.StackReference(f"region-{role}", stack_name=stack_name)),  # type: ignore[arg-type]
        environment=env,
    )
primary, secondary = sides[PRIMARY], sides[SECONDARY]


def health_url(side: Side, key: str) -> pulumi.Output[str]:
    """A region stack's URL, after checking the stack belongs to the side's region."""
    return pulumi.Output.all(side.stack.get(region_contract.REGION), side.region, side.stack.get(key)).apply(
        lambda v: checked_url(v[0], v[1], v[2], side.role)
    )


# E4: one encrypted topic per region (the region's data key) and the us-east-1 alerts topic.
topics = {
    role: OpsTopic(
        f"topic-{role}",
        OpsTopicArgs(
            side.name("ops", "sns"), side.regional(data_contract.KMS_KEY_ARN), context, settings.alert_email
        ),
        side.component_opts(),
    )
    for role, side in sides.items()
}
alerts_key = aws.kms.Key(
    "alerts-key",
    description=f"trading {env} alerts topic (us-east-1)",
    enable_key_rotation=True,
    deletion_window_in_days=30,
    policy=alerts_key_policy(context),
    opts=pulumi.ResourceOptions(
        provider=metrics_provider, protect=settings.protected, retain_on_delete=settings.protected
    ),
)
alerts = OpsTopic(
    "alerts",
    OpsTopicArgs(
        physical_name(env, "alerts", region=METRICS_REGION, service="sns"),
        alerts_key.arn,
        context,
        settings.alert_email,
    ),
    pulumi.ResourceOptions(providers=[metrics_provider]),
)

# E2: the primary's check follows /health/active (moves DNS after a switchover too), the
# secondary's /health (a healthy passive region is healthy).
urls = {
    PRIMARY: health_url(primary, region_contract.ACTIVE_HEALTH_URL),
    SECONDARY: health_url(secondary, region_contract.HEALTH_URL),
}
health_checks = {
    role: RegionalHealthCheck(
        f"health-{role}",
        RegionalHealthCheckArgs(
            url=urls[role],
            check_name=side.name("api-health"),
            alarm_name=side.name("api-health-check", "alarm"),
            request_interval=settings.health_check_interval,
            failure_threshold=settings.health_check_failure_threshold,
            checker_regions=settings.health_check_regions,
            alerts_topic_arn=alerts.arn,
        ),
        pulumi.ResourceOptions(providers=[metrics_provider]),
    )
    for role, side in sides.items()
}

# E6: each canary probes /health of both regions; the secondary's is the primary's witness.
plain_health = {role: health_url(side, region_contract.HEALTH_URL) for role, side in sides.items()}
targets_json = pulumi.Output.all(
    primary.region, plain_health[PRIMARY], secondary.region, plain_health[SECONDARY]
).apply(lambda v: json.dumps([{"name": v[0], "url": v[1]}, {"name": v[2], "url": v[3]}]))
canary_zip = build_canary_zip(Path(__file__).resolve().parents[2] / "build" / "canary" / "health.zip")
canaries = {
    role: RegionalCanary(
        f"canary-{role}",
        RegionalCanaryArgs(
            canary_name=side.name("health", "canary"),
            bucket_name=pulumi.Output.all(side.region, context.account_id).apply(
                lambda v: physical_name(env, "canary", region=v[0], service="s3", account_id=v[1])
            ),
            role_name=side.name("canary", "iam-role"),
            alarm_name=side.name("canary-success", "alarm"),
            region=side.region,
            runtime=settings.canary_runtime,
            zip_path=canary_zip,
            targets_json=targets_json,
            kms_key_arn=side.regional(data_contract.KMS_KEY_ARN),
            topic_arn=topics[role].arn,
            context=context,
            protected=settings.protected,
            own_alarm_name=side.name("canary-own", "alarm"),
            witness_target=primary.region if role == SECONDARY else None,
            witness_alarm_name=side.name("primary-witness", "alarm") if role == SECONDARY else None,
        ),
        side.component_opts(),
    )
    for role, side in sides.items()
}

# E7: the orchestrator lives in the secondary, so it works while the primary region is down.
primary_composite_name = primary.name("regional-health", "alarm")
primary_down_name = secondary.name("primary-down", "alarm")
orchestrator = FailoverOrchestrator(
    "failover",
    OrchestratorArgs(
        environment=env,
        function_name=secondary.name("failover", "lambda"),
        role_name=secondary.name("failover", "iam-role"),
        queue_name=secondary.name("failover-dlq", "sqs"),
        region=secondary.region,
        primary_region=primary.region,
        secondary_region=secondary.region,
        timeout_seconds=settings.orchestrator_timeout_seconds,
        failover_mode=settings.failover_mode,
        probe_count=settings.probe_count,
        table_name=data.get(data_contract.TABLE_NAME),
        table_replica_arn=secondary.regional(data_contract.TABLE_REPLICA_ARN),
        global_cluster_id=data.get(data_contract.GLOBAL_CLUSTER_ID),
        global_cluster_arn=data.get(data_contract.GLOBAL_CLUSTER_ARN),
        cluster_arns=pulumi.Output.all(
            primary.region,
            primary.regional(data_contract.CLUSTER_ARN),
            secondary.region,
            secondary.regional(data_contract.CLUSTER_ARN),
        ).apply(lambda v: {v[0]: v[1], v[2]: v[3]}),
        health_urls=pulumi.Output.all(
            primary.region, plain_health[PRIMARY], secondary.region, plain_health[SECONDARY]
        ).apply(lambda v: {v[0]: v[1], v[2]: v[3]}),
        report_topic_arn=topics[SECONDARY].arn,
        trigger_alarms=pulumi.Output.all(primary_composite_name, primary_down_name),
        kms_key_arn=secondary.regional(data_contract.KMS_KEY_ARN),
    ),
    secondary.component_opts(),
)


def own_canary_alarm(canary: RegionalCanary) -> aws.cloudwatch.MetricAlarm:
    """The canary's alarm on its own region's step (always built here)."""
    assert canary.own_alarm is not None
    return canary.own_alarm


# E5: alarms and the regional-health composite per region (each on its own region's topic).
regional_alarms = {}
for role, side in sides.items():
    other = secondary if role == PRIMARY else primary
    specs = regional_specs(
        api_name=side.stack.get(region_contract.API_NAME),
        stage_name=side.stack.get(region_contract.STAGE_NAME),
        api_function=side.stack.get(region_contract.API_FUNCTION_NAME),
        processor_function=side.stack.get(region_contract.PROCESSOR_FUNCTION_NAME),
        table_name=data.get(data_contract.TABLE_NAME),
        other_region=other.region,
        cluster_id=side.regional(data_contract.CLUSTER_ID),
        source_bucket=side.regional(data_contract.BUCKET_NAME),
        destination_bucket=other.regional(data_contract.BUCKET_NAME),
        replication_rule_id=pulumi.Output.all(
            data.get(data_contract.REPLICATION_RULE_IDS), side.region
        ).apply(lambda v: pick_rule_id(v[0], v[1])),
        secondary=role == SECONDARY,
    )
    regional_alarms[role] = RegionalAlarms(
        f"alarms-{role}",
        RegionalAlarmsArgs(
            environment=env,
            region=side.region,
            specs=specs,
            alarm_names={spec.key: side.name(spec.key, "alarm") for spec in specs},
            composite_name=primary_composite_name
            if role == PRIMARY
            else side.name("regional-health", "alarm"),
            topic_arn=topics[role].arn,
            # The canary's step on this region only: its overall success also covers the other
            # region, which would page (and, in the primary, trigger) for the wrong region.
            extra_critical_arns=(own_canary_alarm(canaries[role]).arn,),
        ),
        side.component_opts(),
    )

witness = canaries[SECONDARY].witness_alarm
assert witness is not None  # the secondary's canary always has the witness alarm
primary_down = PrimaryDownAlarm(
    "primary-down",
    PrimaryDownArgs(
        alarm_name=primary_down_name,
        child_alarm_arns=(witness.arn,),
        topic_arn=topics[SECONDARY].arn,
        function_arn=orchestrator.arn,
        function_name=orchestrator.name,
        account_id=context.account_id,
    ),
    secondary.component_opts(),
)

# E4: the primary's topic feeds the orchestrator across regions: the subscription lives with the
# topic, the invoke permission with the function, scoped to that topic.
topic_permission = aws.lambda_.Permission(
    "failover-from-primary-topic",
    action="lambda:InvokeFunction",
    function=orchestrator.name,
    principal="sns.amazonaws.com",
    source_arn=topics[PRIMARY].arn,
    opts=pulumi.ResourceOptions(provider=secondary.provider),
)
aws.sns.TopicSubscription(
    "failover-subscription",
    topic=topics[PRIMARY].arn,
    protocol="lambda",
    endpoint=orchestrator.arn,
    # Only what can trigger a failover reaches the function; every other alarm of the primary
    # stays on the topic (the orchestrator would ignore it anyway).
    filter_policy_scope="MessageBody",
    filter_policy=pulumi.Output.json_dumps(
        {"AlarmName": [primary_composite_name], "NewStateValue": ["ALARM"]}
    ),
    opts=pulumi.ResourceOptions(provider=primary.provider, depends_on=[topic_permission]),
)

# E3: failover alias records when a domain is configured.
dns_name = None
if settings.domain_name is not None and settings.hosted_zone_id is not None:
    for role, side in sides.items():
        FailoverRecord(
            f"dns-{role}",
            FailoverRecordArgs(
                domain_name=settings.domain_name,
                hosted_zone_id=settings.hosted_zone_id,
                failover_type=role.upper(),
                set_identifier=role,
                health_check_id=health_checks[role].id,
                target_domain=side.stack.optional(region_contract.CUSTOM_DOMAIN_TARGET),
                target_zone_id=side.stack.optional(region_contract.CUSTOM_DOMAIN_ZONE_ID),
            ),
            pulumi.ResourceOptions(providers=[metrics_provider]),
        )
    dns_name = settings.domain_name


def by_region(values: dict[str, pulumi.Input[str]]) -> pulumi.Output[dict[str, str]]:
    """``{<primary region>: ..., <secondary region>: ...}`` from values keyed by role."""
    return pulumi.Output.all(primary.region, values[PRIMARY], secondary.region, values[SECONDARY]).apply(
        lambda v: {v[0]: v[1], v[2]: v[3]}
    )


export_edge_contract(
    EdgeContract(
        health_check_ids=by_region({role: check.id for role, check in health_checks.items()}),  # type: ignore[arg-type]
        topic_arns=by_region({role: topic.arn for role, topic in topics.items()}),  # type: ignore[arg-type]
        alerts_topic_arn=alerts.arn,
        composite_alarm_arns=by_region({role: a.composite.arn for role, a in regional_alarms.items()}),  # type: ignore[arg-type]
        primary_down_alarm_arn=primary_down.arn,
        failover_function_name=orchestrator.name,
        failover_function_arn=orchestrator.arn,
        dns_name=dns_name,
    )
)
