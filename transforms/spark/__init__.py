"""The Spark engine (`LAKEHOUSE_ENGINE=spark`): one session per process, Delta reads and commits."""
