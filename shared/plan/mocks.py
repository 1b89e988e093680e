"""Mocks for the offline plan: realistic ids and ARNs, stack references fed from producer exports.

Every AWS id and ARN carries the resource's region and the plan account, so a test (or a policy
rule) can see a cross-region mistake in the values themselves. Any invoke that is not listed
here raises: a program that starts depending on a new lookup must say what it expects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from shared._pulumi_internals import MockCallArgs, MockResourceArgs, Mocks

PLAN_ACCOUNT_ID = "123456789012"
PARTITION = "aws"


class UnmockedInvokeError(RuntimeError):
    """A program called a provider function the offline plan does not know."""


class UnknownStackReferenceError(RuntimeError):
    """A program referenced a stack whose exports the plan has not produced."""


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid(*parts: str) -> str:
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _region_code(region: str) -> str:
    return "".join(p[0] if not p.isdigit() else p for p in region.split("-"))


class PlanMocks(Mocks):
    """Resource and invoke mocks used by the offline plan runner."""

    def __init__(
        self,
        stack_exports: Mapping[str, Mapping[str, Any]] | None = None,
        default_region: str = "",
        account_id: str = PLAN_ACCOUNT_ID,
    ) -> None:
        self.stack_exports = dict(stack_exports or {})
        self.default_region = default_region
        self.account_id = account_id
        self._provider_regions: dict[str, str] = {}

    # -- helpers --------------------------------------------------------------------------
    def _region_of(self, inputs: Mapping[str, Any], provider_ref: str | None) -> str:
        region = inputs.get("region")
        if isinstance(region, str) and region:
            return region
        if provider_ref:
            return self._provider_regions.get(provider_ref.split("::")[-1], self.default_region)
        return self.default_region

    def _arn(self, service: str, region: str, resource: str, *, global_service: bool = False) -> str:
        reg = "" if global_service else region
        return f"arn:{PARTITION}:{service}:{reg}:{self.account_id}:{resource}"

    # -- Mocks API ------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if typ == "pulumi:pulumi:StackReference":
            ref = inputs.get("name", name)
            if ref not in self.stack_exports:
                known = ", ".join(sorted(self.stack_exports)) or "none"
                raise UnknownStackReferenceError(
                    f"stack reference {ref!r} has no plan yet (planned stacks: {known})"
                )
            return ref, {"name": ref, "outputs": dict(self.stack_exports[ref]), "secretOutputNames": []}
        if typ.startswith("pulumi:providers:"):
            pid = _uuid(typ, name)
            if isinstance(inputs.get("region"), str):
                self._provider_regions[pid] = inputs["region"]
            return pid, inputs
        if typ.startswith("random:"):
            state = dict(inputs)
            if typ == "random:index/randomPassword:RandomPassword":
                state["result"] = "plan-" + _digest(name, length=int(inputs.get("length", 32)) - 5)
                state["bcryptHash"] = "$2a$10$" + _digest("bcrypt", name, length=53)
            elif typ == "random:index/randomId:RandomId":
                state["hex"] = _digest(name, length=2 * int(inputs.get("byteLength", 4)))
            return _digest(typ, name), state
        region = self._region_of(inputs, args.provider)
        return self._aws_resource(typ, name, inputs, region)

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        region = self._region_of(args.args, args.provider)
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{PARTITION}:iam::{self.account_id}:user/plan",
                "userId": "AIDAPLANUSER",
                "id": self.account_id,
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": PARTITION,
            }
        if token == "aws:index/getRegion:getRegion":
            return {
                "region": region,
                "name": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            }
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = ["a", "b", "c"]
            return {
                "names": [f"{region}{x}" for x in letters],
                "zoneIds": [f"{_region_code(region)}-az{i + 1}" for i in range(3)],
                "id": region,
                "groupNames": [region],
            }
        raise UnmockedInvokeError(
            f"offline plan: unmocked invoke {token} (region {region or 'unknown'}); "
            "add it to shared/plan/mocks.py"
        )

    # -- AWS resources --------------------------------------------------------------------
    def _aws_resource(
        self, typ: str, name: str, inputs: dict[str, Any], region: str
    ) -> tuple[str, dict[str, Any]]:
        state = dict(inputs)
        acct = self.account_id
        h = _digest(typ, name, region)
        module = typ.split(":")[1].split("/")[0] if ":" in typ else ""
        physical = str(inputs.get("name") or inputs.get("bucket") or name)
        rid = f"{physical}"
        arn = self._arn(module, region, f"{typ.rsplit(':', 1)[-1].lower()}/{physical}")

        if typ == "aws:kms/key:Key" or typ == "aws:kms/replicaKey:ReplicaKey":
            key_id = ("mrk-" + h[:16] + h[:16]) if inputs.get("multiRegion") else _uuid(h)
            rid, arn = key_id, self._arn("kms", region, f"key/{key_id}")
            state["keyId"] = key_id
        elif typ == "aws:kms/alias:Alias":
            arn = self._arn("kms", region, str(inputs.get("name", name)))
        elif typ == "aws:ec2/vpc:Vpc":
            rid = "vpc-" + h
            arn = self._arn("ec2", region, f"vpc/{rid}")
            state.update(
                defaultRouteTableId="rtb-" + h[::-1],
                defaultSecurityGroupId="sg-" + h[::-1],
                mainRouteTableId="rtb-" + h[::-1],
                ownerId=acct,
            )
        elif typ == "aws:ec2/subnet:Subnet":
            rid = "subnet-" + h
            arn = self._arn("ec2", region, f"subnet/{rid}")
        elif typ == "aws:ec2/securityGroup:SecurityGroup":
            rid = "sg-" + h
            arn = self._arn("ec2", region, f"security-group/{rid}")
        elif typ in (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        ):
            rid = "sgr-" + h
            arn = self._arn("ec2", region, f"security-group-rule/{rid}")
        elif typ == "aws:ec2/routeTable:RouteTable":
            rid = "rtb-" + h
            arn = self._arn("ec2", region, f"route-table/{rid}")
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            rid = "vpce-" + h
            arn = self._arn("ec2", region, f"vpc-endpoint/{rid}")
            state["prefixListId"] = "pl-" + h[:8]
        elif typ == "aws:rds/globalCluster:GlobalCluster":
            rid = str(inputs.get("globalClusterIdentifier", name))
            arn = f"arn:{PARTITION}:rds::{acct}:global-cluster:{rid}"
            state["endpoint"] = f"{rid}.global-{h[:12]}.global.rds.amazonaws.com"
            state["globalClusterResourceId"] = "cluster-" + h.upper()
        elif typ == "aws:rds/cluster:Cluster":
            rid = str(inputs.get("clusterIdentifier", name))
            arn = self._arn("rds", region, f"cluster:{rid}")
            state["endpoint"] = f"{rid}.cluster-{h[:12]}.{region}.rds.amazonaws.com"
            state["readerEndpoint"] = f"{rid}.cluster-ro-{h[:12]}.{region}.rds.amazonaws.com"
            state["clusterResourceId"] = "cluster-" + h.upper()
        elif typ == "aws:rds/clusterInstance:ClusterInstance":
            rid = str(inputs.get("identifier", name))
            arn = self._arn("rds", region, f"db:{rid}")
            state["endpoint"] = f"{rid}.{h[:12]}.{region}.rds.amazonaws.com"
        elif typ in (
            "aws:rds/subnetGroup:SubnetGroup",
            "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        ):
            kind = "subgrp" if "subnet" in typ else "cluster-pg"
            arn = self._arn("rds", region, f"{kind}:{physical}")
        elif typ == "aws:secretsmanager/secret:Secret":
            arn = self._arn("secretsmanager", region, f"secret:{physical}-{h[:6]}")
            rid = arn
        elif typ == "aws:secretsmanager/secretVersion:SecretVersion":
            rid = f"{inputs.get('secretId', '')}|{_uuid(h)}"
            state["versionId"] = _uuid(h)
        elif typ == "aws:dynamodb/table:Table":
            rid = physical
            arn = self._arn("dynamodb", region, f"table/{physical}")
            state["streamArn"] = f"{arn}/stream/2026-12-01T00:00:00.000"
            state["streamLabel"] = "2026-12-01T00:00:00.000"
            replicas = []
            for replica in inputs.get("replicas", []) or []:
                r = dict(replica)
                rr = r.get("regionName", "")
                r["arn"] = f"arn:{PARTITION}:dynamodb:{rr}:{acct}:table/{physical}"
                r["streamArn"] = f"{r['arn']}/stream/2026-12-01T00:00:00.000"
                r["streamLabel"] = "2026-12-01T00:00:00.000"
                replicas.append(r)
            if replicas:
                state["replicas"] = replicas
        elif typ.startswith("aws:s3/"):
            bucket = str(inputs.get("bucket", physical))
            rid = bucket
            arn = f"arn:{PARTITION}:s3:::{bucket}"
            if typ == "aws:s3/bucket:Bucket":
                state["bucketDomainName"] = f"{bucket}.s3.amazonaws.com"
                state["bucketRegionalDomainName"] = f"{bucket}.s3.{region}.amazonaws.com"
                state["region"] = region
        elif typ.startswith("aws:iam/"):
            if typ == "aws:iam/role:Role":
                arn = f"arn:{PARTITION}:iam::{acct}:role/{physical}"
                state["uniqueId"] = "AROA" + h.upper()
            elif typ == "aws:iam/policy:Policy":
                arn = f"arn:{PARTITION}:iam::{acct}:policy/{physical}"
            elif typ in ("aws:iam/rolePolicy:RolePolicy",):
                rid = f"{inputs.get('role', '')}:{physical}"
            elif typ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
                rid = f"{inputs.get('role', '')}-{h[:8]}"
        elif typ == "aws:lambda/function:Function":
            arn = self._arn("lambda", region, f"function:{physical}")
            state["invokeArn"] = (
                f"arn:{PARTITION}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
            )
            state["qualifiedArn"] = f"{arn}:$LATEST"
            state["version"] = "$LATEST"
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            arn = self._arn("logs", region, f"log-group:{physical}")
        elif typ == "aws:sns/topic:Topic":
            arn = self._arn("sns", region, physical)
            rid = arn
        elif typ == "aws:sns/topicSubscription:TopicSubscription":
            topic = str(inputs.get("topic", ""))
            arn = f"{topic}:{_uuid(h)}"
            rid = arn
        elif typ == "aws:sqs/queue:Queue":
            arn = self._arn("sqs", region, physical)
            rid = f"https://sqs.{region}.amazonaws.com/{acct}/{physical}"
            state["url"] = rid
        elif typ in (
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:cloudwatch/compositeAlarm:CompositeAlarm",
        ):
            alarm = str(inputs.get("alarmName", physical))
            rid, arn = alarm, self._arn("cloudwatch", region, f"alarm:{alarm}")
        elif typ == "aws:route53/healthCheck:HealthCheck":
            rid = _uuid(h)
            arn = f"arn:{PARTITION}:route53:::healthcheck/{rid}"
        elif typ == "aws:apigateway/restApi:RestApi":
            rid = h[:10]
            arn = f"arn:{PARTITION}:apigateway:{region}::/restapis/{rid}"
            state["rootResourceId"] = h[10:16]
            state["executionArn"] = f"arn:{PARTITION}:execute-api:{region}:{acct}:{rid}"
        elif typ == "aws:apigateway/resource:Resource":
            rid = h[:6]
            state["path"] = "/" + str(inputs.get("pathPart", ""))
        elif typ == "aws:apigateway/deployment:Deployment":
            rid = h[:6]
        elif typ == "aws:apigateway/stage:Stage":
            api = str(inputs.get("restApi", ""))
            stage = str(inputs.get("stageName", name))
            rid = f"ags-{api}-{stage}"
            arn = f"arn:{PARTITION}:apigateway:{region}::/restapis/{api}/stages/{stage}"
            state["invokeUrl"] = f"https://{api}.execute-api.{region}.amazonaws.com/{stage}"
            state["executionArn"] = f"arn:{PARTITION}:execute-api:{region}:{acct}:{api}/{stage}"
        elif typ == "aws:apigateway/domainName:DomainName":
            rid = str(inputs.get("domainName", name))
            state["regionalDomainName"] = f"d-{h[:10]}.execute-api.{region}.amazonaws.com"
            state["regionalZoneId"] = "Z1UJRXOUMOOFQ8" if region == "us-east-1" else "ZOJJZC49E0EPZ"
        elif typ == "aws:acm/certificate:Certificate":
            arn = self._arn("acm", region, f"certificate/{_uuid(h)}")
            # ACM validates a wildcard through a record on the name it covers.
            validated = str(inputs.get("domainName", "")).removeprefix("*.")
            state["domainValidationOptions"] = [
                {
                    "domainName": inputs.get("domainName", ""),
                    "resourceRecordName": f"_{h[:8]}.{validated}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{h[8:16]}.acm-validations.aws.",
                }
            ]
        elif typ == "aws:route53/record:Record":
            record_name = str(inputs.get("name", name)).rstrip(".")
            rid = f"{inputs.get('zoneId', '')}_{record_name}_{inputs.get('type', '')}"
            state["fqdn"] = record_name
        elif typ == "aws:acm/certificateValidation:CertificateValidation":
            rid = str(inputs.get("certificateArn", ""))
        elif typ == "aws:apigateway/account:Account":
            rid = f"api-gateway-account-{region}"
        elif typ == "aws:apigateway/method:Method" or typ == "aws:apigateway/integration:Integration":
            rid = f"agm-{h[:10]}-{inputs.get('httpMethod', '')}"
        elif typ == "aws:lambda/permission:Permission":
            rid = str(inputs.get("statementId") or f"terraform-{h[:26]}")
        elif typ == "aws:synthetics/canary:Canary":
            arn = self._arn("synthetics", region, f"canary:{physical}")
            state["engineArn"] = self._arn("lambda", region, f"function:cwsyn-{physical}-{_uuid(h)}")
            state["sourceLocationArn"] = state["engineArn"] + ":1"
        elif typ == "aws:lambda/eventSourceMapping:EventSourceMapping":
            rid = _uuid(h)
            arn = self._arn("lambda", region, f"event-source-mapping:{rid}")
            state["uuid"] = rid

        state.setdefault("arn", arn)
        if "id" not in state:
            state["id"] = rid
        state.setdefault("tagsAll", inputs.get("tags", {}))
        return rid, state
