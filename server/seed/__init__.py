"""Operator and demo data: plans, system roles, stores, users and the demo store."""
