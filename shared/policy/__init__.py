"""Policy rules over plan files (SPEC S5); the rule objects live in :mod:`shared.policy.rules`."""
