"""Helpers the snap runs around nova."""
