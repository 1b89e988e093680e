"""The regional REST API (SPEC R3): routes, Lambda proxy, stage, access logs, throttling, domain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from region_tier.functions import LambdaFunction
from shared.iam import service_trust_policy
from shared.naming import physical_name

#: Order routes are signed with SigV4 (callers are the firm's own services); the health routes
#: stay open because Route 53 health checkers and the canaries call them anonymously.
ORDER_AUTHORIZATION = "AWS_IAM"
HEALTH_AUTHORIZATION = "NONE"
INTEGRATION_TIMEOUT_MS = 29_000
INTEGRATION_TYPE = "AWS_PROXY"
INTEGRATION_HTTP_METHOD = "POST"  # Lambda is always invoked with POST


@dataclass(frozen=True)
class Route:
    """One method of the API: ``path`` as API Gateway names it, the permission's path glob."""

    key: str
    method: str
    path: str
    authorization: str
    source_path: str


ROUTES = (
    Route("post-orders", "POST", "/orders", ORDER_AUTHORIZATION, "/orders"),
    Route("get-order", "GET", "/orders/{id}", ORDER_AUTHORIZATION, "/orders/*"),
    Route("get-health", "GET", "/health", HEALTH_AUTHORIZATION, "/health"),
    Route("get-health-active", "GET", "/health/active", HEALTH_AUTHORIZATION, "/health/active"),
)

#: One JSON object per request (SPEC R3), with what an on-call engineer searches by.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "caller": "$context.identity.caller",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "stage": "$context.stage",
    "domainName": "$context.domainName",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "integrationError": "$context.integration.error",
    "errorMessage": "$context.error.message",
    "wafResponseCode": "$context.wafResponseCode",
    "xrayTraceId": "$context.xrayTraceId",
}


#: What every integration is, besides its target (which the deployment's triggers carry too).
INTEGRATION_SETTINGS: dict[str, object] = {
    "type": INTEGRATION_TYPE,
    "integrationHttpMethod": INTEGRATION_HTTP_METHOD,
    "timeoutMilliseconds": INTEGRATION_TIMEOUT_MS,
}


def _request_parameters(route: Route) -> dict[str, bool] | None:
    return {"method.request.path.id": True} if "{id}" in route.path else None


def routes_fingerprint(
    routes: tuple[Route, ...] = ROUTES, integration: dict[str, object] = INTEGRATION_SETTINGS
) -> str:
    """Changes whenever a method or integration changes, so a new deployment is created then.

    A REST API stage serves a snapshot: a changed integration timeout or request parameter
    without a new deployment would never reach the stage.
    """
    text = json.dumps(
        {
            "routes": [{**r.__dict__, "requestParameters": _request_parameters(r)} for r in routes],
            "integration": integration,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CustomDomain:
    """The optional regional custom domain (``domainName`` and friends)."""

    domain_name: str
    certificate_domain: str
    hosted_zone_id: str | None


@dataclass(frozen=True)
class RegionalApiArgs:
    """Inputs of :class:`RegionalApi`."""

    environment: str
    region: str
    function: LambdaFunction
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    log_retention_days: int
    throttle_rate_limit: float
    throttle_burst_limit: int
    manage_account: bool
    domain: CustomDomain | None = None


class RegionalApi(pulumi.ComponentResource):
    """REST API (regional endpoint) in front of the ``api`` function, one stage per environment."""

    def __init__(self, name: str, args: RegionalApiArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:region:RegionalApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env, region = args.environment, args.region
        api_name = physical_name(env, "api", region=region, service="apigateway")

        self.rest_api = aws.apigateway.RestApi(
            f"{name}-rest-api",
            name=api_name,
            description=f"trading {env} order API ({region})",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            opts=child,
        )
        orders = self._resource(f"{name}-orders", self.rest_api.root_resource_id, "orders", child)
        order = self._resource(f"{name}-order", orders.id, "{id}", child)
        health = self._resource(f"{name}-health", self.rest_api.root_resource_id, "health", child)
        health_active = self._resource(f"{name}-health-active", health.id, "active", child)
        resources = {
            "/orders": orders,
            "/orders/{id}": order,
            "/health": health,
            "/health/active": health_active,
        }

        route_resources: list[pulumi.Resource] = []
        self.permissions: list[aws.lambda_.Permission] = []
        for route in ROUTES:
            method = aws.apigateway.Method(
                f"{name}-{route.key}",
                rest_api=self.rest_api.id,
                resource_id=resources[route.path].id,
                http_method=route.method,
                authorization=route.authorization,
                request_parameters=_request_parameters(route),
                opts=child,
            )
            integration = aws.apigateway.Integration(
                f"{name}-{route.key}-integration",
                rest_api=self.rest_api.id,
                resource_id=resources[route.path].id,
                http_method=method.http_method,
                type=INTEGRATION_TYPE,
                integration_http_method=INTEGRATION_HTTP_METHOD,
                uri=args.function.function.invoke_arn,
                timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
                opts=child,
            )
            # Scoped to this API, its stage, the route's method and path: nothing else may invoke.
            self.permissions.append(
                aws.lambda_.Permission(
                    f"{name}-{route.key}-invoke",
                    action="lambda:InvokeFunction",
                    function=args.function.function.name,
                    principal="apigateway.amazonaws.com",
                    source_arn=pulumi.Output.concat(
                        self.rest_api.execution_arn, "/", env, "/", route.method, route.source_path
                    ),
                    opts=child,
                )
            )
            route_resources += [method, integration]

        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            description=f"trading {env} order API routes {routes_fingerprint()[:12]}",
            # A stage serves the deployment it points at: redeploy when a route or the
            # integrations' target changes, never otherwise.
            triggers={"routes": routes_fingerprint(), "function": args.function.function.invoke_arn},
            opts=child.merge(pulumi.ResourceOptions(depends_on=route_resources)),
        )
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{api_name}/access",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )

        stage_depends: list[pulumi.Resource] = []
        self.account: aws.apigateway.Account | None = None
        if args.manage_account:
            self.account = self._account(name, args, child)
            stage_depends.append(self.account)
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.rest_api.id,
            deployment=self.deployment.id,
            stage_name=env,
            description=f"trading {env} ({region})",
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn,
                format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
            ),
            # Access logging needs the account's CloudWatch role to be set first.
            opts=child.merge(pulumi.ResourceOptions(depends_on=stage_depends)),
        )
        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                # Execution logs would go to a log group API Gateway creates itself, without
                # our key or retention; the JSON access log carries what operations needs.
                logging_level="OFF",
                data_trace_enabled=False,
                throttling_rate_limit=args.throttle_rate_limit,
                throttling_burst_limit=args.throttle_burst_limit,
            ),
            opts=child,
        )

        self.domain_name: aws.apigateway.DomainName | None = None
        if args.domain is not None:
            self.domain_name = self._custom_domain(name, args.domain, child)

        self.invoke_url: pulumi.Output[str] = self.stage.invoke_url
        self.register_outputs({"apiId": self.rest_api.id, "invokeUrl": self.stage.invoke_url})

    def _resource(
        self, name: str, parent_id: pulumi.Input[str], path_part: str, opts: pulumi.ResourceOptions
    ) -> aws.apigateway.Resource:
        return aws.apigateway.Resource(
            name, rest_api=self.rest_api.id, parent_id=parent_id, path_part=path_part, opts=opts
        )

    def _account(
        self, name: str, args: RegionalApiArgs, child: pulumi.ResourceOptions
    ) -> aws.apigateway.Account:
        # One per account and region: retained on delete so destroying this stack does not pull
        # the logging role out from under another stack's stages in the same account.
        retained = child.merge(pulumi.ResourceOptions(retain_on_delete=True))
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            name=physical_name(args.environment, "apigw-logs", region=args.region, service="iam-role"),
            description=f"API Gateway pushes logs to CloudWatch ({args.region})",
            assume_role_policy=service_trust_policy("apigateway.amazonaws.com", args.account_id),
            opts=retained,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-role-policy",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", args.partition, ":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ),
            opts=retained,
        )
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=retained.merge(pulumi.ResourceOptions(depends_on=[attachment])),
        )

    def _custom_domain(
        self, name: str, domain: CustomDomain, child: pulumi.ResourceOptions
    ) -> aws.apigateway.DomainName:
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=domain.certificate_domain,
            validation_method="DNS",
            opts=child,
        )
        if domain.hosted_zone_id is not None:
            # One name without SANs: ACM asks for exactly one validation record. Both regions'
            # certificates for the same name ask for the same record, hence allow_overwrite;
            # retained on delete, because destroying one region must not take the record the
            # other region's certificate still renews through.
            option = certificate.domain_validation_options[0]
            record = aws.route53.Record(
                f"{name}-certificate-validation-record",
                zone_id=domain.hosted_zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=60,
                allow_overwrite=True,
                opts=child.merge(pulumi.ResourceOptions(retain_on_delete=True)),
            )
            validation = aws.acm.CertificateValidation(
                f"{name}-certificate-validation",
                certificate_arn=certificate.arn,
                validation_record_fqdns=[record.fqdn],
                opts=child,
            )
        else:
            # Validated out of band (the zone is elsewhere): wait until ACM has issued it.
            validation = aws.acm.CertificateValidation(
                f"{name}-certificate-validation", certificate_arn=certificate.arn, opts=child
            )
        domain_name = aws.apigateway.DomainName(
            f"{name}-domain",
            domain_name=domain.domain_name,
            regional_certificate_arn=validation.certificate_arn,
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
            security_policy="TLS_1_2",
            opts=child,
        )
        aws.apigateway.BasePathMapping(
            f"{name}-base-path",
            rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name,
            domain_name=domain_name.domain_name,
            opts=child,
        )
        return domain_name
