"""Components of the trading-edge project (health checks, DNS, SNS, alarms, canaries, failover)."""
