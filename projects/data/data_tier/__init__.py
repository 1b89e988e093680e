"""Components of the ``trading-data`` project, one concern per module."""
