"""Route 53 health checks of the regional APIs and their alarms in us-east-1 (SPEC E2)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

#: Route 53 publishes ``HealthCheckStatus`` only in us-east-1.
METRICS_REGION = "us-east-1"


def split_url(url: str) -> tuple[str, str]:
    """``https://host/dev/health`` → ``("host", "/dev/health")``; only https URLs are checked."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or not parts.path:
        raise ValueError(f"health URL {url!r} is not an https URL with a path")
    return parts.hostname, parts.path


@dataclass(frozen=True)
class RegionalHealthCheckArgs:
    """Inputs of :class:`RegionalHealthCheck`."""

    url: pulumi.Input[str]
    check_name: pulumi.Input[str]
    alarm_name: pulumi.Input[str]
    request_interval: int
    failure_threshold: int
    checker_regions: tuple[str, ...]
    alerts_topic_arn: pulumi.Input[str]


class RegionalHealthCheck(pulumi.ComponentResource):
    """An HTTPS health check on one regional API and an alarm on its status (both us-east-1)."""

    def __init__(self, name: str, args: RegionalHealthCheckArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:RegionalHealthCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        target = pulumi.Output.from_input(args.url).apply(split_url)
        self.health_check = aws.route53.HealthCheck(
            f"{name}-check",
            type="HTTPS",
            fqdn=target.apply(lambda t: t[0]),
            port=443,
            resource_path=target.apply(lambda t: t[1]),
            enable_sni=True,
            request_interval=args.request_interval,
            failure_threshold=args.failure_threshold,
            measure_latency=True,
            regions=list(args.checker_regions),
            tags={"Name": args.check_name},
            opts=child,
        )
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=args.alarm_name,
            alarm_description=pulumi.Output.concat("Route 53 health check failing: ", args.url),
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": self.health_check.id},
            statistic="Minimum",
            period=60,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="LessThanThreshold",
            # No data from Route 53 means the check itself is gone: page.
            treat_missing_data="breaching",
            alarm_actions=[args.alerts_topic_arn],
            ok_actions=[args.alerts_topic_arn],
            opts=child,
        )
        self.id: pulumi.Output[str] = self.health_check.id
        self.register_outputs({"id": self.health_check.id, "alarmArn": self.alarm.arn})
