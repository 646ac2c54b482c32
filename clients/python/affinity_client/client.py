"""Client: the affinity server's API as Python calls returning dataclasses.

    with Client("127.0.0.1:50051") as client:
        answer = client.recommend("alice", 10, recent={"m7": 1.0})

One Client may be used from several threads (gRPC channels are thread
safe). Every method raises an AffinityError on failure: ConfigError for bad
arguments or settings (before anything is sent), ServerUnreachable when the
address does not answer (the message names it and what to check), and
AffinityError with the gRPC status name in `code` when the server refuses
the call (e.g. INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown
item, UNAUTHENTICATED for a missing or wrong admin token).

The admin calls (catalog, rollout) go to the server's admin port,
admin_addr (its --admin_listen), with admin_token when the server has an
--admin_token_file.
"""
from __future__ import annotations

import time
from typing import Iterable, Optional, Sequence

import grpc

from affinity.v1 import admin_pb2, admin_pb2_grpc, recommender_pb2, recommender_pb2_grpc
from affinity_client import channel as channels
from affinity_client import convert
from affinity_client.errors import AffinityError, ConfigError, ServerUnreachable, is_connect_failure
from affinity_client.types import (CatalogItem, Outcome, OutcomeResult, Recommendations,
                                   RolloutChange, RolloutStatus)

_HEALTH = {b"": "UNKNOWN", b"\x08\x01": "SERVING", b"\x08\x02": "NOT_SERVING",
           b"\x08\x03": "SERVICE_UNKNOWN"}


class Client:
    def __init__(self, addr: str, *, admin_addr: Optional[str] = None, tls: bool = False,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, admin_token: Optional[str] = None,
                 timeout: float = 2.0):
        """addr: the server's --listen. tls_ca: PEM file of the CA that signed the
        server's certificate (tls=True alone uses the system's roots);
        tls_cert/tls_key: this client's certificate and key, for a server with
        --tls_client_ca. timeout: seconds per call, unless a call gives its own."""
        self._addr = channels.check_address("addr", addr)
        self._admin_addr = (channels.check_address("admin_addr", admin_addr)
                            if admin_addr is not None else None)
        self._settings = channels.settings(tls, tls_ca, tls_cert, tls_key)
        if admin_token is not None and (not admin_token or not all(
                "!" <= c <= "~" for c in admin_token)):
            raise ConfigError("admin_token: expected visible ASCII characters without spaces, "
                              "as in the server's --admin_token_file")
        self._admin_metadata = ((("authorization", f"Bearer {admin_token}"),)
                                if admin_token is not None else None)
        if not timeout > 0:
            raise ConfigError(f"timeout {timeout!r}: expected seconds > 0")
        self._timeout = timeout
        self._channel = channels.open_channel(self._addr, self._settings)
        self._recommender = recommender_pb2_grpc.RecommenderStub(self._channel)
        self._admin_channel = None

    def close(self):
        self._channel.close()
        if self._admin_channel is not None:
            self._admin_channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- affinity.v1.Recommender ------------------------------------------

    def recommend(self, user_id: str, k: int = 10, *, recent=None, exclude: Iterable[str] = (),
                  rule_set: str = "", filters=(), explain: bool = False, session_id: str = "",
                  arm: str = "", timeout: Optional[float] = None) -> Recommendations:
        """Top-k items for user_id ("" for an anonymous session with `recent`).
        recent: {item_id: weight} or (item_id, weight) pairs, folded in and
        never returned; exclude: item ids never to return; filters: Filter
        values or proto-JSON dicts; arm: force an A/B arm (QA)."""
        request = recommender_pb2.RecommendRequest(
            user_id=user_id, k=k, recent=convert.interactions(recent),
            exclude_item_ids=list(exclude), rule_set=rule_set, explain=explain,
            filters=convert.filters(filters), session_id=session_id, arm=arm)
        response = self._call(self._recommender.Recommend, request, timeout)
        return convert.recommendations(response)

    def similar(self, item_id: str, k: int = 10, *, exclude: Iterable[str] = (),
                rule_set: str = "", filters=(), explain: bool = False,
                timeout: Optional[float] = None) -> Recommendations:
        """The k items most similar to item_id (never item_id itself)."""
        request = recommender_pb2.SimilarItemsRequest(
            item_id=item_id, k=k, exclude_item_ids=list(exclude), rule_set=rule_set,
            explain=explain, filters=convert.filters(filters))
        return convert.recommendations(self._call(self._recommender.SimilarItems, request, timeout))

    def report_outcome(self, outcomes, *, timeout: Optional[float] = None) -> OutcomeResult:
        """Stores one Outcome or a list of them (acknowledged = stored)."""
        if isinstance(outcomes, Outcome):
            outcomes = [outcomes]
        request = recommender_pb2.ReportOutcomeRequest(
            outcomes=[convert.outcome(n, o) for n, o in enumerate(outcomes)])
        response = self._call(self._recommender.ReportOutcome, request, timeout)
        return OutcomeResult(accepted=response.accepted, duplicates=response.duplicates)

    def health(self, *, timeout: Optional[float] = None) -> str:
        """grpc.health.v1 status of the server: "SERVING" once a model is loaded."""
        check = self._channel.unary_unary("/grpc.health.v1.Health/Check",
                                          request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        return _HEALTH.get(self._call(check, b"", timeout), "UNKNOWN")

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        """Returns once health() is SERVING; raises the last error (or an
        AffinityError DEADLINE_EXCEEDED) after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.health(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
                if status == "SERVING":
                    return
                last = AffinityError("DEADLINE_EXCEEDED",
                                     f"{self._addr} still {status} after {timeout} s")
            except AffinityError as e:
                last = e
            if time.monotonic() >= deadline:
                raise last
            time.sleep(0.1)

    # --- affinity.v1.CatalogAdmin and RolloutAdmin (admin port) -------------

    def upsert_items(self, items: Iterable[CatalogItem], *,
                     fields: Optional[Sequence[str]] = None,
                     timeout: Optional[float] = None) -> int:
        """Writes items by item_id; returns how many were given.
        fields: the CatalogItem fields to write (e.g. ["in_stock"]), the others
        keep what is stored; an item not in the catalog starts in stock with
        the rest empty. None: each item replaces the stored one whole."""
        request = admin_pb2.UpsertItemsRequest(
            items=[convert.catalog_item(n, item) for n, item in enumerate(items)])
        if fields is not None:
            request.update_mask.paths.extend(convert.catalog_fields(fields))
        return self._call(self._catalog().UpsertItems, request, timeout, admin=True).upserted

    def delete_items(self, item_ids: Iterable[str], *, timeout: Optional[float] = None) -> int:
        """Removes items; returns how many were in the catalog."""
        if isinstance(item_ids, str):
            item_ids = [item_ids]
        request = admin_pb2.DeleteItemsRequest(item_ids=list(item_ids))
        return self._call(self._catalog().DeleteItems, request, timeout, admin=True).deleted

    def get_rollout(self, *, timeout: Optional[float] = None) -> RolloutStatus:
        status = self._call(self._rollout().GetRollout, admin_pb2.GetRolloutRequest(), timeout,
                            admin=True)
        return convert.rollout_status(status)

    def update_rollout(self, state, *, by: str, action: str = "set", reason: str = "",
                       expected_revision: Optional[int] = None,
                       timeout: Optional[float] = None) -> RolloutStatus:
        """Writes a new affinity.v1.RolloutState (start from get_rollout().state).
        expected_revision defaults to state.revision; ABORTED when someone
        else changed the rollout since (read again and retry)."""
        request = admin_pb2.UpdateRolloutRequest(
            expected_revision=state.revision if expected_revision is None else expected_revision,
            state=state, by=by, action=action, reason=reason)
        return convert.rollout_status(
            self._call(self._rollout().UpdateRollout, request, timeout, admin=True))

    def rollout_history(self, limit: int = 20, *,
                        timeout: Optional[float] = None) -> list[RolloutChange]:
        """The last `limit` rollout changes, newest first."""
        response = self._call(self._rollout().RolloutHistory,
                              admin_pb2.RolloutHistoryRequest(limit=limit), timeout, admin=True)
        return convert.rollout_changes(response)

    # --- plumbing -------------------------------------------------------------

    def _admin(self):
        if self._admin_addr is None:
            raise ConfigError("admin calls need admin_addr= (the server's --admin_listen, "
                              "127.0.0.1:50052 by default)")
        if self._admin_channel is None:
            self._admin_channel = channels.open_channel(self._admin_addr, self._settings)
        return self._admin_channel

    def _catalog(self):
        return admin_pb2_grpc.CatalogAdminStub(self._admin())

    def _rollout(self):
        return admin_pb2_grpc.RolloutAdminStub(self._admin())

    def _call(self, method, request, timeout, admin=False):
        try:
            return method(request, timeout=self._timeout if timeout is None else timeout,
                          metadata=self._admin_metadata if admin else None)
        except grpc.RpcError as e:
            code, details = e.code(), e.details() or ""
            if code == grpc.StatusCode.UNAVAILABLE and is_connect_failure(details):
                address = self._admin_addr if admin else self._addr
                flag = "--admin_listen" if admin else "--listen"
                raise ServerUnreachable(
                    f"cannot reach affinity-server at {address} ({details}); "
                    + channels.what_to_check(address, flag, self._settings)) from None
            if code == grpc.StatusCode.UNAUTHENTICATED and self._admin_metadata is None:
                details += " (this client has no admin_token)"
            raise AffinityError(code.name, details) from None
