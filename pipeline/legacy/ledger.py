"""The activity ledger: every activity of an organisation is chained by SHA-256 to the one before it.

tx_hash = "0x" + sha256(prev_hash + canonical JSON of the activity's fields); block_number counts 1, 2, 3 … per
organisation, and ledger_heads remembers the newest entry so that deleting the last entries is detected too.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from pipeline.domain.errors import Conflict
from pipeline.domain.model import new_id
from pipeline.legacy import tables as lt

GENESIS = "0x" + "0" * 64
HASHED_FIELDS = ("id", "org_id", "document_id", "block_number", "action", "activity_type", "status", "actor",
                 "actor_name", "details", "extra_data", "revenue_impact", "gas_used", "timestamp")
BASE_GAS = 21_000


def canonical_json(entry: dict[str, Any]) -> str:
    """The activity fields the hash covers, as sorted compact JSON (floats normalised)."""
    body = {k: entry.get(k) for k in HASHED_FIELDS}
    body["revenue_impact"] = float(body["revenue_impact"] or 0.0)
    body["timestamp"] = float(body["timestamp"])
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """The entry's hash given its predecessor's."""
    return "0x" + hashlib.sha256((prev_hash + canonical_json(entry)).encode("utf-8")).hexdigest()


def gas_for(entry: dict[str, Any]) -> int:
    """A deterministic 'gas' figure: base cost plus 16 per byte of payload, like Ethereum calldata."""
    payload = json.dumps({"details": entry.get("details"), "extra_data": entry.get("extra_data")},
                         sort_keys=True, separators=(",", ":"))
    return BASE_GAS + 16 * len(payload.encode("utf-8"))


def append(conn: Connection, *, org_id: str, document_id: str, action: str, activity_type: str, actor: str,
           details: str, extra_data: dict[str, Any] | None = None, revenue_impact: float = 0.0,
           actor_name: str | None = None, status: str = "success", timestamp: float | None = None) -> dict[str, Any]:
    """Write one activity at the head of the organisation's chain (inside the caller's transaction).

    Raises Conflict when another writer moved the head first; the caller retries the whole transaction.
    """
    q = select(lt.ledger_heads).where(lt.ledger_heads.c.org_id == org_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    head = conn.execute(q).first()
    prev_hash, prev_block = (head.tx_hash, head.block_number) if head else (GENESIS, 0)
    entry: dict[str, Any] = {
        "id": new_id(), "org_id": org_id, "document_id": document_id, "block_number": prev_block + 1,
        "action": action, "activity_type": activity_type, "status": status, "actor": actor,
        "actor_name": actor_name, "details": details, "extra_data": extra_data or {},
        "revenue_impact": float(revenue_impact or 0.0),
        "timestamp": float(timestamp if timestamp is not None else time.time()),
    }
    entry["gas_used"] = gas_for(entry)
    entry["prev_hash"] = prev_hash
    entry["tx_hash"] = chain_hash(prev_hash, entry)
    conn.execute(insert(lt.activities).values(**entry))
    if head is None:
        conn.execute(insert(lt.ledger_heads).values(org_id=org_id, block_number=entry["block_number"],
                                                    tx_hash=entry["tx_hash"]))
    else:
        res = conn.execute(update(lt.ledger_heads)
                           .where(lt.ledger_heads.c.org_id == org_id,
                                  lt.ledger_heads.c.block_number == prev_block)
                           .values(block_number=entry["block_number"], tx_hash=entry["tx_hash"]))
        if res.rowcount != 1:
            raise Conflict("ledger head moved; retry")
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of recomputing one organisation's chain."""

    org_id: str
    entries: int
    ok: bool
    block_number: int | None = None
    activity_id: str | None = None
    reason: str = ""


def verify(conn: Connection, org_id: str) -> VerifyResult:
    """Recompute the chain of one organisation; the first entry that does not match is reported."""
    rows = conn.execute(select(lt.activities).where(lt.activities.c.org_id == org_id)
                        .order_by(lt.activities.c.block_number)).mappings().all()
    prev_hash, expected = GENESIS, 1
    for r in rows:
        entry = dict(r)
        if r["block_number"] != expected:
            return VerifyResult(org_id, len(rows), False, expected, None,
                                f"entry #{expected} is missing (deleted); next present is #{r['block_number']}")
        if r["prev_hash"] != prev_hash:
            return VerifyResult(org_id, len(rows), False, expected, r["id"],
                                f"entry #{expected} does not link to entry #{expected - 1}")
        recomputed = chain_hash(prev_hash, entry)
        if recomputed != r["tx_hash"]:
            return VerifyResult(org_id, len(rows), False, expected, r["id"],
                                f"entry #{expected} was modified (hash {r['tx_hash'][:18]}… recomputes to "
                                f"{recomputed[:18]}…)")
        prev_hash, expected = r["tx_hash"], expected + 1
    head = conn.execute(select(lt.ledger_heads).where(lt.ledger_heads.c.org_id == org_id)).first()
    last = expected - 1
    if head is None and rows:
        return VerifyResult(org_id, len(rows), False, last, None, "ledger head is missing")
    if head is not None and (head.block_number != last or head.tx_hash != prev_hash):
        return VerifyResult(org_id, len(rows), False, last + 1 if head.block_number > last else head.block_number,
                            None, f"ledger head is entry #{head.block_number} but the chain ends at #{last} "
                                  "(entries deleted or head edited)")
    return VerifyResult(org_id, len(rows), True)


def ledger_orgs(conn: Connection) -> list[str]:
    """Organisations that have a ledger (activities or a head)."""
    ids = {r[0] for r in conn.execute(select(lt.activities.c.org_id).distinct())}
    ids |= {r[0] for r in conn.execute(select(lt.ledger_heads.c.org_id))}
    return sorted(ids)
