"""Policy rules over plan files and in the policy pack (SPEC S5, S6).

* :mod:`shared.policy.rules` — the one rule registry (resource and stack rules);
* :mod:`shared.policy.pack` — the same rule objects as pulumi-policy policies (``policies/``);
* :mod:`shared.policy.budget` — the RTO/RPO budget of an environment and its findings;
* ``python -m shared.policy PLAN...`` — ``make policy``.
"""
