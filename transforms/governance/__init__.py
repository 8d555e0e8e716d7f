"""Governance: read-only audited SQL (`lakehouse sql`) and the one audit writer (`ops.audit_log`)."""
