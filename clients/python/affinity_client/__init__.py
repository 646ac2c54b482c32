"""Python client of the affinity recommendation server (affinity.v1 gRPC API).

    from affinity_client import Client
    with Client("127.0.0.1:50051") as client:
        for item in client.recommend("alice", 5).items:
            print(item.item_id, item.score)

The generated message and service modules are importable as affinity.v1.*_pb2
and *_pb2_grpc for anything the wrapper does not cover.
"""
from affinity_client.client import Client
from affinity_client.errors import AffinityError, ConfigError, ServerUnreachable
from affinity_client.types import (Arm, CatalogItem, Event, Filter, Outcome, OutcomeResult,
                                   Recommendations, RolloutChange, RolloutStatus, ScoredItem)

__all__ = [
    "AffinityError", "Arm", "CatalogItem", "Client", "ConfigError", "Event", "Filter", "Outcome",
    "OutcomeResult", "Recommendations", "RolloutChange", "RolloutStatus", "ScoredItem",
    "ServerUnreachable",
]
