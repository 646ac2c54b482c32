"""Conversions between the dataclasses of types.py and affinity.v1 messages.

Bad arguments raise ConfigError naming the argument (and the entry).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from google.protobuf import json_format

from affinity.v1 import model_pb2, recommender_pb2, rules_pb2
from affinity_client.errors import ConfigError
from affinity_client.types import (Arm, CatalogItem, Event, Filter, Outcome, Recommendations,
                                   RolloutChange, RolloutStatus, ScoredItem)


def interactions(recent):
    """{item: weight}, or (item, weight) pairs, as Interaction messages."""
    pairs = recent.items() if isinstance(recent, Mapping) else recent
    out = []
    for n, pair in enumerate(pairs or ()):
        try:
            item_id, weight = pair
            out.append(recommender_pb2.Interaction(item_id=str(item_id), weight=float(weight)))
        except (TypeError, ValueError):
            raise ConfigError(f"recent[{n}] {pair!r}: expected (item_id, weight)") from None
    return out


def filters(values):
    """Filter dataclasses or proto-JSON dicts as Filter messages."""
    out = []
    for n, value in enumerate(values or ()):
        if isinstance(value, Filter):
            message = rules_pb2.Filter(
                attribute=value.attribute, any_of=list(value.any_of),
                none_of=list(value.none_of), newer_than=value.newer_than,
                older_than=value.older_than, keep_missing=value.keep_missing)
            if value.min is not None:
                message.min = value.min
            if value.max is not None:
                message.max = value.max
            if value.equals is not None:
                message.equals = value.equals
        elif isinstance(value, Mapping):
            try:
                message = json_format.ParseDict(value, rules_pb2.Filter())
            except json_format.ParseError as e:
                raise ConfigError(f"filters[{n}]: {e}") from None
        else:
            raise ConfigError(f"filters[{n}]: expected a Filter or a dict, got {type(value).__name__}")
        out.append(message)
    return out


def recommendations(response):
    return Recommendations(
        items=tuple(ScoredItem(item_id=i.item_id, score=i.score, from_fallback=i.from_fallback,
                               explanation=i.explanation) for i in response.items),
        model_version=response.model_version, arm=response.arm, fallback=response.fallback,
        request_id=response.request_id)


def outcome(n, value):
    if not isinstance(value, Outcome):
        raise ConfigError(f"outcomes[{n}]: expected an Outcome, got {type(value).__name__}")
    try:
        event = Event[value.event] if isinstance(value.event, str) else Event(value.event)
    except (KeyError, ValueError):
        raise ConfigError(f"outcomes[{n}].event {value.event!r}: expected IMPRESSION, CLICK "
                          "or CONVERSION") from None
    return recommender_pb2.OutcomeReport(
        request_id=value.request_id, user_id=value.user_id, arm=value.arm,
        model_version=value.model_version, item_id=value.item_id, event=int(event),
        at_unix_micros=value.at_unix_micros, session_id=value.session_id)


def catalog_item(n, value):
    if not isinstance(value, CatalogItem):
        raise ConfigError(f"items[{n}]: expected a CatalogItem, got {type(value).__name__}")
    message = model_pb2.CatalogItem(
        item_id=value.item_id, title=value.title, categories=list(value.categories),
        brand=value.brand, in_stock=value.in_stock, created_at_unix=value.created_at_unix,
        region=value.region, tags=list(value.tags))
    if value.price is not None:
        message.price = value.price
    return message


def catalog_fields(fields):
    """upsert_items(fields=...): CatalogItem field names (a single name works
    too), item_id excluded."""
    if isinstance(fields, str):
        fields = [fields]
    names = [f.name for f in dataclasses.fields(CatalogItem) if f.name != "item_id"]
    out = list(fields)
    if not out:
        raise ConfigError("fields: empty, expected CatalogItem field names (e.g. ['in_stock']), "
                          "or None to replace whole items")
    for n, name in enumerate(out):
        if name not in names:
            raise ConfigError(f"fields[{n}] {name!r}: expected one of {', '.join(names)}")
    return out


def _arms(messages):
    return tuple(Arm(name=a.name, version=a.version, basis_points=a.basis_points)
                 for a in messages)


def rollout_status(status):
    return RolloutStatus(
        revision=status.state.revision, salt=status.state.salt,
        control_version=status.state.control_version, arms=_arms(status.resolved.arms),
        shadow_version=status.resolved.shadow.version,
        shadow_basis_points=status.resolved.shadow.basis_points,
        warnings=tuple(status.resolved.warnings), store=status.store,
        unresolved_reason=status.unresolved_reason, state=status.state)


def rollout_changes(response):
    return [RolloutChange(revision=c.revision, at_unix=c.at_unix, by=c.by, action=c.action,
                          reason=c.reason) for c in response.changes]
