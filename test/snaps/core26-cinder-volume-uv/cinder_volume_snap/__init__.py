"""Hooks and service wrappers of the cinder-volume snap."""
