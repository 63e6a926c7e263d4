"""The legacy blueprint object (its routes live in the modules api/legacy/__init__ imports)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("legacy", __name__)
