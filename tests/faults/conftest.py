"""Fault tests start their own servers (tests.faults.throwaway)."""

from tests.faults.throwaway import fault_cluster  # noqa: F401 - the session's throwaway PostgreSQL
