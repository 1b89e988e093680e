"""Components of the ``trading-region`` project, one concern per module."""
