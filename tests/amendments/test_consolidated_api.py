"""GET /v1/documents/{id}/consolidated over the real app, and amendment ordering."""
from __future__ import annotations

from own_docs import HALIFAX_AMENDMENT, HALIFAX_LEASE, HALIFAX_SECOND_AMENDMENT


def _client(stack):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app(stack.svc).test_client()


def test_consolidated_route_returns_terms_and_hides_other_orgs(stack) -> None:
    lease_id = stack.upload(stack.org_a, "halifax-lease.txt", HALIFAX_LEASE.encode())
    amend_id = stack.upload(stack.org_a, "halifax-first-amendment.txt", HALIFAX_AMENDMENT.encode())
    client = _client(stack)
    auth_a = {"Authorization": f"Bearer {stack.key_a}"}
    resp = client.get(f"/v1/documents/{amend_id}/consolidated", headers=auth_a)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["document_id"] == lease_id and body["requested_document_id"] == amend_id
    assert body["fields"]["expiration_date"]["value"] == "2028-03-31"
    assert body["fields"]["expiration_date"]["citations"][0]["document_id"] == amend_id
    assert {s["filename"] for s in body["sources"]} == {"halifax-lease.txt", "halifax-first-amendment.txt"}

    auth_b = {"Authorization": f"Bearer {stack.key_b}"}
    assert client.get(f"/v1/documents/{lease_id}/consolidated", headers=auth_b).status_code == 404
    assert client.get("/v1/documents/no-such-id/consolidated", headers=auth_a).status_code == 404
    assert client.get(f"/v1/documents/{lease_id}/consolidated").status_code == 401
    spec = client.get("/openapi.json").get_json()
    assert "get" in spec["paths"]["/v1/documents/{doc_id}/consolidated"]


def test_not_yet_extracted_lease_is_404_not_ready(stack) -> None:
    lease_id = stack.upload(stack.org_a, "halifax-lease.txt", HALIFAX_LEASE.encode(), process=False)
    resp = _client(stack).get(f"/v1/documents/{lease_id}/consolidated",
                              headers={"Authorization": f"Bearer {stack.key_a}"})
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "extraction_not_ready"


def test_amendments_apply_in_date_order_not_upload_order(stack) -> None:
    lease_id = stack.upload(stack.org_a, "halifax-lease.txt", HALIFAX_LEASE.encode())
    second = stack.upload(stack.org_a, "second.txt", HALIFAX_SECOND_AMENDMENT.encode())
    first = stack.upload(stack.org_a, "first.txt", HALIFAX_AMENDMENT.encode())
    assert stack.document(stack.org_a, second).amends_document_id == lease_id  # successor landlord
    assert stack.document(stack.org_a, first).amends_document_id == lease_id
    terms = stack.consolidated(stack.org_a, lease_id)
    assert [s["document_id"] for s in terms["sources"]] == [lease_id, first, second]
    assert [s["effective_date"] for s in terms["sources"][1:]] == ["2025-01-03", "2027-09-10"]
    f = terms["fields"]
    assert f["expiration_date"]["value"] == "2031-03-31" and f["expiration_date"]["document_id"] == second
    assert [(h["value"], h["document_id"]) for h in f["expiration_date"]["history"]] == [
        ("2025-03-31", lease_id), ("2028-03-31", first)]
    assert f["base_rent_monthly"]["value"] == 7250.0
    assert f["landlord"]["document_id"] == second and "HARBOURLINE" in f["landlord"]["value"].upper()
    assert [(p["end"], p["monthly_rent"], p["document_id"]) for p in terms["rent_schedule"]] == [
        ("2025-03-31", 6000.0, lease_id), ("2028-03-31", 6600.0, first), ("2031-03-31", 7250.0, second)]
