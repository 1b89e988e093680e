"""trading-region: regional compute of one environment in one region. Settings → data contract →
components → the region contract."""

import pulumi
from region_tier.api import CustomDomain, RegionalApi, RegionalApiArgs
from region_tier.data import RegionData
from region_tier.functions import (
    FailureQueueArgs,
    LambdaFunction,
    LambdaFunctionArgs,
    StreamTriggerArgs,
    failure_queue,
    stream_trigger,
)
from region_tier.iam import API_TABLE_ACTIONS, PROCESSOR_TABLE_ACTIONS, DataAccess
from region_tier.packaging import function_code

from shared.aws_context import AwsContext
from shared.contracts import data as data_contract
from shared.contracts.region import RegionContract, export_region_contract
from shared.providers import stack_provider
from shared.regions import region_code
from shared.settings.region import RegionSettings, load_region_settings

settings: RegionSettings = load_region_settings()
region, env = settings.region, settings.environment

# R1: every value of the data tier, and the provider's region, resolves only once the data stack
# lists this region; a stack for a region the environment does not have fails with one line.
data = RegionData(pulumi.StackReference(settings.data_stack_name), region, settings.data_stack_name)
regional = data.regional
tags = data.get(data_contract.TAGS)
provider = stack_provider(f"region-aws-{region_code(region)}", data.checked_region, tags)
opts = pulumi.ResourceOptions(provider=provider)
context = AwsContext.lookup(provider)

kms_key_arn = regional(data_contract.KMS_KEY_ARN)
secret_arn = regional(data_contract.SECRET_ARN)
table_replica_arn = regional(data_contract.TABLE_REPLICA_ARN)
variables: dict[str, pulumi.Input[str]] = {
    "TABLE_NAME": data.get(data_contract.TABLE_NAME),
    "DB_SECRET_ARN": secret_arn,
    # Writers always go through the global writer endpoint, which follows the promotion.
    "DB_WRITER_ENDPOINT": data.get(data_contract.GLOBAL_WRITER_ENDPOINT),
    "DB_READER_ENDPOINT": regional(data_contract.READER_ENDPOINT),
    "DB_SSL": "require",
    "REGION_NAME": region,
    "ENVIRONMENT": env,
}
dry_run = pulumi.runtime.is_dry_run()


def function(component: str, description: str, timeout: int, access: DataAccess) -> LambdaFunction:
    return LambdaFunction(
        component,
        LambdaFunctionArgs(
            environment=env,
            region=region,
            component=component,
            description=description,
            code=function_code(
                component, settings.lambda_runtime, settings.lambda_architecture, dry_run=dry_run
            ).archive,
            runtime=settings.lambda_runtime,
            architecture=settings.lambda_architecture,
            timeout_seconds=timeout,
            log_retention_days=settings.log_retention_days,
            account_id=context.account_id,
            subnet_ids=regional(data_contract.PRIVATE_SUBNET_IDS),
            security_group_id=regional(data_contract.APP_SECURITY_GROUP_ID),
            data_access=access,
            variables={**variables, "POWERTOOLS_SERVICE_NAME": f"trading-{component}"},
        ),
        opts,
    )


api_function = function(
    "api",
    "trading order API",
    settings.api_timeout_seconds,
    DataAccess(secret_arn, kms_key_arn, table_replica_arn, API_TABLE_ACTIONS),
)
failures = failure_queue("processor-failures", FailureQueueArgs(env, region, kms_key_arn), opts)
stream_arn = regional(data_contract.TABLE_STREAM_ARN)
processor_function = function(
    "processor",
    "trading ledger processor",
    settings.processor_timeout_seconds,
    DataAccess(
        secret_arn,
        kms_key_arn,
        table_replica_arn,
        PROCESSOR_TABLE_ACTIONS,
        stream_arn=stream_arn,
        failure_queue_arn=failures.arn,
    ),
)
stream_trigger(
    "processor-stream",
    StreamTriggerArgs(region, stream_arn, processor_function, failures.arn, kms_key_arn),
    opts,
)

domain = (
    CustomDomain(
        settings.domain_name, settings.certificate_name or settings.domain_name, settings.hosted_zone_id
    )
    if settings.domain_name
    else None
)
api = RegionalApi(
    "api-gateway",
    RegionalApiArgs(
        environment=env,
        region=region,
        function=api_function,
        account_id=context.account_id,
        partition=context.partition,
        kms_key_arn=kms_key_arn,
        log_retention_days=settings.log_retention_days,
        throttle_rate_limit=settings.throttle_rate_limit,
        throttle_burst_limit=settings.throttle_burst_limit,
        manage_account=settings.manage_api_gateway_account,
        domain=domain,
    ),
    opts,
)

export_region_contract(
    RegionContract(
        region=region,
        api_id=api.rest_api.id,
        api_name=api.rest_api.name,
        stage_name=api.stage.stage_name,
        invoke_url=api.invoke_url,
        health_url=pulumi.Output.concat(api.invoke_url, "/health"),
        active_health_url=pulumi.Output.concat(api.invoke_url, "/health/active"),
        api_function_name=api_function.name,
        api_function_arn=api_function.arn,
        processor_function_name=processor_function.name,
        processor_function_arn=processor_function.arn,
        access_log_group_name=api.access_log_group.name,
        custom_domain_target=api.domain_name.regional_domain_name if api.domain_name else None,
        custom_domain_zone_id=api.domain_name.regional_zone_id if api.domain_name else None,
    )
)
