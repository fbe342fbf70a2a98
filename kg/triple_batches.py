"""A graph's triples in batches of bounded size that never split a blank node's triples: each batch can go to a
server as a document of its own (a blank node label names one node only within its document)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rdflib import BNode
from rdflib.term import Node

Triple = tuple[Node, Node, Node]


def triple_batches(triples: Iterable[Triple], size: int) -> Iterator[list[Triple]]:
    """`triples` in lists of at most `size`, the triples of blank nodes linked to each other kept in one list
    (so a list is larger than `size` only when one such group is)."""
    parent: dict[BNode, BNode] = {}

    def root(node: BNode) -> BNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    blank: list[Triple] = []
    batch: list[Triple] = []
    for triple in triples:
        subject, _, value = triple
        if not isinstance(subject, BNode) and not isinstance(value, BNode):
            batch.append(triple)
            if len(batch) == size:
                yield batch
                batch = []
            continue
        blank.append(triple)
        if isinstance(subject, BNode) and isinstance(value, BNode):
            parent[root(subject)] = root(value)
    groups: dict[BNode, list[Triple]] = {}
    for triple in blank:
        groups.setdefault(root(triple[0] if isinstance(triple[0], BNode) else triple[2]), []).append(triple)
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch
