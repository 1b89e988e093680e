"""trading-dr policy pack: ``pulumi preview --policy-pack policies`` (SPEC S5).

The rules are not written here: they are the rule objects of ``shared.policy.rules`` that
``make plan`` and ``make policy`` apply, turned into pulumi-policy policies by
``shared.policy.pack.build_policies``. Rules that need the stack config, outputs or
retain-on-delete run only offline (README, "Policy rules").
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from shared.policy.pack import PACK_NAME, build_policies

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    # Each policy carries its rule's own level (mandatory or advisory); this is only the fallback.
    enforcement_level=EnforcementLevel.MANDATORY,
)
