"""The hypervisor snap hooks."""
