"""The network of one region (SPEC D3): own VPC, private subnets, security groups, endpoints.

No NAT and no internet gateway: functions reach DynamoDB and S3 through gateway endpoints and
Secrets Manager through an interface endpoint. Nothing assumes a cross-region network path.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.naming import physical_name
from shared.regions import network_zone_count

POSTGRES_PORT = 5432
HTTPS_PORT = 443
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")
#: What the in-VPC functions call besides the gateway services.
INTERFACE_ENDPOINT_SERVICES = ("secretsmanager",)


def vpc_cidr(region_index: int) -> str:
    """A distinct /16 per region (10.10/16, 10.20/16, ...) so the regions could be peered later."""
    return f"10.{10 * (region_index + 1)}.0.0/16"


def subnet_cidrs(cidr: str, count: int) -> list[str]:
    """The first ``count`` /20 blocks of ``cidr``."""
    net = ipaddress.ip_network(cidr)
    return [str(s) for s in list(net.subnets(new_prefix=20))[:count]]


@dataclass(frozen=True)
class RegionalNetworkArgs:
    """Inputs of :class:`RegionalNetwork`."""

    environment: str
    region: str
    region_index: int
    provider: aws.Provider


class RegionalNetwork(pulumi.ComponentResource):
    """VPC, private subnets across AZs, app/database/endpoint security groups and endpoints."""

    def __init__(self, name: str, args: RegionalNetworkArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:data:RegionalNetwork", name, None, opts)
        env, region = args.environment, args.region
        child = pulumi.ResourceOptions(parent=self)
        cidr = vpc_cidr(args.region_index)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": physical_name(env, "vpc", region=region)},
            opts=child,
        )
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(provider=args.provider)
        )
        self.route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=self.vpc.id,
            tags={"Name": physical_name(env, "private", region=region)},
            opts=child,
        )
        self.subnets: list[aws.ec2.Subnet] = []
        # One subnet per zone; indexing past the zones the account has fails only at deploy time.
        for i, block in enumerate(subnet_cidrs(cidr, network_zone_count(region))):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=block,
                availability_zone=zones.names[i],
                map_public_ip_on_launch=False,
                tags={"Name": physical_name(env, f"private-{i}", region=region), "Tier": "private"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rt",
                subnet_id=subnet.id,
                route_table_id=self.route_table.id,
                opts=child,
            )
            self.subnets.append(subnet)

        self.app_security_group = aws.ec2.SecurityGroup(
            f"{name}-app-sg",
            name=physical_name(env, "app", region=region),
            description="Lambda functions of the trading platform",
            vpc_id=self.vpc.id,
            opts=child,
        )
        self.database_security_group = aws.ec2.SecurityGroup(
            f"{name}-db-sg",
            name=physical_name(env, "db", region=region),
            description="Aurora PostgreSQL: 5432 from the app security group only",
            vpc_id=self.vpc.id,
            opts=child,
        )
        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoint-sg",
            name=physical_name(env, "endpoints", region=region),
            description="Interface endpoints: 443 from the app security group only",
            vpc_id=self.vpc.id,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-app",
            security_group_id=self.database_security_group.id,
            referenced_security_group_id=self.app_security_group.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL from the app security group",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-from-app",
            security_group_id=self.endpoint_security_group.id,
            referenced_security_group_id=self.app_security_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="HTTPS to interface endpoints from the app security group",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-app-to-db",
            security_group_id=self.app_security_group.id,
            referenced_security_group_id=self.database_security_group.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL to the database security group",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-app-to-endpoints",
            security_group_id=self.app_security_group.id,
            referenced_security_group_id=self.endpoint_security_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="HTTPS to the interface endpoints",
            opts=child,
        )

        self.gateway_endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        for service in GATEWAY_ENDPOINT_SERVICES:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{service}-gateway",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[self.route_table.id],
                tags={"Name": physical_name(env, service, region=region)},
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-app-to-{service}",
                security_group_id=self.app_security_group.id,
                prefix_list_id=endpoint.prefix_list_id,
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                description=f"HTTPS to {service} through its gateway endpoint",
                opts=child,
            )
            self.gateway_endpoints[service] = endpoint

        self.interface_endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        for service in INTERFACE_ENDPOINT_SERVICES:
            self.interface_endpoints[service] = aws.ec2.VpcEndpoint(
                f"{name}-{service}-interface",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.subnets],
                security_group_ids=[self.endpoint_security_group.id],
                tags={"Name": physical_name(env, service, region=region)},
                opts=child,
            )

        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.subnets])
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "privateSubnetIds": self.private_subnet_ids,
                "appSecurityGroupId": self.app_security_group.id,
            }
        )
