"""The offline plan (SPEC S4): real Pulumi programs under Pulumi's mock monitor, no AWS, no CLI."""
