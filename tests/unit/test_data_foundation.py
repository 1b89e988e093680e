"""D1–D3 on the real data program under mocks: providers, keys, network."""

from __future__ import annotations

import json

import pytest

from shared.naming import RULES
from tests.planning import data_plan, of_type, one

REGIONS = ("us-east-1", "us-east-2")


@pytest.fixture(scope="module", params=["dev", "prod"])
def plan(request):
    return data_plan(request.param)


def test_every_aws_resource_and_invoke_is_on_an_explicit_regional_provider(plan):
    providers = {r["urn"]: r["inputs"]["region"] for r in of_type(plan, "pulumi:providers:aws")}
    assert sorted(providers.values()) == list(REGIONS)
    aws = [r for r in plan.resources if r["type"].startswith("aws:")]
    assert len(aws) > 40
    for r in aws:
        assert r["provider"] in providers, r["urn"]
        assert r["region"] == providers[r["provider"]]
    for call in plan.monitor.invocations:
        assert call.provider in providers, call.token
    zones = [c for c in plan.monitor.invocations if c.token.endswith("getAvailabilityZones")]
    assert sorted(providers[c.provider] for c in zones) == list(REGIONS)


def test_providers_carry_default_tags(plan):
    env = plan.document["stack"]
    for provider in of_type(plan, "pulumi:providers:aws"):
        tags = (
            json.loads(provider["inputs"]["defaultTags"])["tags"]
            if isinstance(provider["inputs"]["defaultTags"], str)
            else provider["inputs"]["defaultTags"]["tags"]
        )
        assert tags["Environment"] == env
        assert tags["Project"] == "trading-platform"
        assert tags["ManagedBy"] == "pulumi"
        assert tags["Owner"] == "platform-sre"
        assert tags["CostCenter"] == f"cc-trading-{env}"


def test_keys_rotate_in_both_regions_with_a_policy_without_wildcard_principal(plan):
    keys = of_type(plan, "aws:kms/key:Key")
    assert sorted(k["region"] for k in keys) == list(REGIONS)
    for key in keys:
        assert key["inputs"]["enableKeyRotation"] is True
        policy = json.loads(key["inputs"]["policy"])
        principals = [s["Principal"] for s in policy["Statement"]]
        assert "*" not in principals
        assert {"AWS": "arn:aws:iam::123456789012:root"} in principals
        services = {
            p
            for s in principals
            for p in (s.get("Service") if isinstance(s.get("Service"), list) else [s.get("Service")])
            if p
        }
        assert services == {
            f"logs.{key['region']}.amazonaws.com",
            "sns.amazonaws.com",
            "cloudwatch.amazonaws.com",
        }
        via = next(s for s in policy["Statement"] if s["Sid"] == "AwsServicesOnBehalfOfAccount")
        assert {
            f"{svc}.{key['region']}.amazonaws.com" for svc in ("rds", "dynamodb", "s3", "secretsmanager")
        } <= set(via["Condition"]["StringEquals"]["kms:ViaService"])


def test_database_ingress_only_from_the_app_security_group(plan):
    for region in REGIONS:
        db_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", f"network-{region}-db-sg")
        app_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", f"network-{region}-app-sg")
        rules = [
            r
            for r in of_type(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            if r["inputs"]["securityGroupId"] == db_sg["urn"]
            or (
                r["inputs"]["securityGroupId"].startswith("sg-")
                and r["name"].startswith(f"network-{region}-db")
            )
        ]
        assert len(rules) == 1
        rule = rules[0]
        assert rule["inputs"]["fromPort"] == 5432 and rule["inputs"]["toPort"] == 5432
        assert rule["inputs"]["ipProtocol"] == "tcp"
        assert "cidrIpv4" not in rule["inputs"] and "cidrIpv6" not in rule["inputs"]
        assert app_sg["urn"] in rule["dependencies"] and db_sg["urn"] in rule["dependencies"]
        assert not db_sg["inputs"].get("ingress")
    for r in of_type(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert "referencedSecurityGroupId" in r["inputs"]


def test_endpoints_exist_per_region_and_no_default_vpc(plan):
    for region in REGIONS:
        vpc = one(plan, "aws:ec2/vpc:Vpc", f"network-{region}-vpc")
        endpoints = [r for r in of_type(plan, "aws:ec2/vpcEndpoint:VpcEndpoint") if r["region"] == region]
        by_service = {e["inputs"]["serviceName"]: e["inputs"]["vpcEndpointType"] for e in endpoints}
        assert by_service == {
            f"com.amazonaws.{region}.s3": "Gateway",
            f"com.amazonaws.{region}.dynamodb": "Gateway",
            f"com.amazonaws.{region}.secretsmanager": "Interface",
        }
        for e in endpoints:
            assert vpc["urn"] in e["dependencies"]
        subnets = [s for s in of_type(plan, "aws:ec2/subnet:Subnet") if s["region"] == region]
        assert len({s["inputs"]["availabilityZone"] for s in subnets}) >= 2
        assert all(s["inputs"]["availabilityZone"].startswith(region) for s in subnets)
        assert all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in subnets)
    assert not of_type(plan, "aws:ec2/defaultVpc:DefaultVpc")
    assert not of_type(plan, "aws:ec2/natGateway:NatGateway")
    assert not of_type(plan, "aws:ec2/internetGateway:InternetGateway")
    cidrs = [v["inputs"]["cidrBlock"] for v in of_type(plan, "aws:ec2/vpc:Vpc")]
    assert len(set(cidrs)) == 2


def _names(plan):
    for r in plan.resources:
        inputs = r["inputs"]
        for key in (
            "name",
            "bucket",
            "clusterIdentifier",
            "identifier",
            "globalClusterIdentifier",
            "functionName",
            "alarmName",
        ):
            if isinstance(inputs.get(key), str):
                yield r["type"], inputs[key]
        tag_name = (inputs.get("tags") or {}).get("Name")
        if tag_name:
            yield r["type"], tag_name


def test_names_carry_the_environment_and_fit_limits(plan):
    env = plan.document["stack"]
    names = list(_names(plan))
    assert len(names) > 15
    for type_, name in names:
        # RDS fixes its log groups' names; the cluster identifier inside carries the environment.
        bare = name.removeprefix("alias/").removeprefix("/aws/rds/cluster/")
        assert bare.startswith(f"trading-{env}-"), (type_, name)
        assert len(name) <= RULES["rds"].max_length or type_ not in ("aws:rds/cluster:Cluster",), name


def test_protection_follows_config():
    dev = data_plan("dev")
    prod = data_plan("prod")
    assert all(not k["protect"] and not k["retainOnDelete"] for k in of_type(dev, "aws:kms/key:Key"))
    assert all(k["protect"] and k["retainOnDelete"] for k in of_type(prod, "aws:kms/key:Key"))
