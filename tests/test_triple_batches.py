"""A graph split into bounded batches for a server (kg.triple_batches): every triple once, no batch over the bound,
and the triples of linked blank nodes in one batch (a label names one node only within its document)."""

from __future__ import annotations

from rdflib import BNode, Literal, URIRef

from kg.triple_batches import triple_batches

P = URIRef("https://example.org/p")


def _blank_nodes(batch: list) -> set[BNode]:
    return {term for triple in batch for term in triple if isinstance(term, BNode)}


def test_batches_are_bounded_and_keep_linked_blank_nodes_together() -> None:
    x, y, z = BNode("x"), BNode("y"), BNode("z")
    ground = [(URIRef(f"https://example.org/s{n}"), P, Literal(n)) for n in range(5)]
    linked = [(x, P, y), (ground[0][0], P, x), (y, P, Literal("y"))]  # x and y: one group of 3
    alone = [(z, P, Literal(1)), (z, P, Literal(2))]
    triples = [ground[0], linked[0], ground[1], alone[0], ground[2], linked[1], ground[3], alone[1], linked[2], ground[4]]
    batches = list(triple_batches(triples, 3))
    assert sorted(t for batch in batches for t in batch) == sorted(triples)
    assert all(len(batch) <= 3 for batch in batches)
    holding = {node: [n for n, batch in enumerate(batches) if node in _blank_nodes(batch)] for node in (x, y, z)}
    assert len(holding[x]) == len(holding[z]) == 1 and holding[x] == holding[y]


def test_a_group_of_blank_nodes_larger_than_the_bound_goes_whole() -> None:
    chain = [BNode(f"b{n}") for n in range(5)]
    triples = [(a, P, b) for a, b in zip(chain, chain[1:])]  # 4 triples linking 5 blank nodes
    assert list(triple_batches(triples, 3)) == [triples]
