"""Entities, value types and the rules that hold whatever stores them."""
