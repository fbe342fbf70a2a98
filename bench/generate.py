"""Synthetic projects for the scale benchmark: the project itself plus generated documents of the same shapes.

A generated project is a copy of this one (ontology, shapes, queries, the fact sheet and its statements) with
`--triples` worth of synthetic documents appended: each document is a text file in data/sources/ and, in
data/statements.ttl, its kg:SourceDocument node, its claims (quote and offsets checked against its text, as
the shapes require) and the domain nodes they support: a region, states, an alliance, a membership, a
military unit, a body of water, armed forces, a patrol, a cooperation with the United States and a
financial commitment with its amount. Joins cross documents (every region lies within one shared region,
patrols partner with units of alliances, so the ontology's property chains fire). The same seed and size give
byte-identical files. The result conforms to ontology/shapes.ttl (tests/test_generate.py checks a tiny one).

Run: python bench/generate.py --triples 200000 --out /tmp/bench-200k [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIPLES_PER_DOCUMENT = 1330  # 10 topics of 132 triples, and the document and its publisher (test_generate counts)
TOPICS_PER_DOCUMENT = 10
COPIED = ("ontology", "queries", "data")

PREFIXES = """
@prefix kg: <https://w3id.org/defence-kg/ontology#> .
@prefix id: <https://w3id.org/defence-kg/id/> .
@prefix claim: <https://w3id.org/defence-kg/id/claim/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

SHARED = """
id:bench-World a kg:Region ;
    rdfs:label "the synthetic world"@en , "le monde synthétique"@fr ;
    kg:supportedBy claim:bench-C0000000000 .
"""

# One topic of a document: (sentence template, the nodes it supports). {n} is the topic's unique number.
SENTENCES = (
    "The states of Stateland {n}a and Stateland {n}b lie in Region {n}",
    "Stateland {n}a is a member of Alliance {n}",
    "Unit {n} of Alliance {n} patrols Sea {n}",
    "The forces of Stateland {n}a cooperate with the United States in Region {n}",
    "Stateland {n}a has committed {amount} dollars to Stateland {n}b",
)


def topic_turtle(n: str, claims: list[str], amount: int) -> str:
    """The domain nodes of one topic, each supported by the claims (of SENTENCES, in order) that state it."""
    c = [f"claim:{name}" for name in claims]
    return f"""
id:R{n} a kg:Region ; rdfs:label "Region {n}"@en , "Région {n}"@fr ; kg:withinRegion id:bench-World ;
    kg:supportedBy {c[0]} , {c[3]} .
id:S{n}a a kg:State ; rdfs:label "Stateland {n}a"@en , "Étatland {n}a"@fr ; kg:withinRegion id:R{n} ;
    kg:supportedBy {c[0]} , {c[1]} , {c[4]} .
id:S{n}b a kg:State ; rdfs:label "Stateland {n}b"@en , "Étatland {n}b"@fr ; kg:withinRegion id:R{n} ;
    kg:supportedBy {c[0]} , {c[4]} .
id:A{n} a kg:Alliance ; rdfs:label "Alliance {n}"@en , "Alliance {n} (fr)"@fr ; kg:supportedBy {c[1]} , {c[2]} .
id:M{n} a kg:Membership ; rdfs:label "membership {n}"@en , "adhésion {n}"@fr ;
    org:member id:S{n}a ; org:organization id:A{n} ; kg:supportedBy {c[1]} .
id:U{n} a kg:MilitaryUnit ; rdfs:label "Unit {n}"@en , "Unité {n}"@fr ; org:subOrganizationOf id:A{n} ;
    kg:supportedBy {c[2]} .
id:W{n} a kg:BodyOfWater ; rdfs:label "Sea {n}"@en , "Mer {n}"@fr ; kg:withinRegion id:R{n} ;
    kg:supportedBy {c[2]} .
id:P{n} a kg:Patrol ; rdfs:label "patrol {n}"@en , "patrouille {n}"@fr ; kg:actor id:S{n}a ;
    kg:withPartner id:U{n} ; kg:patrols id:W{n} ; kg:supportedBy {c[2]} .
id:F{n} a kg:ArmedForces ; rdfs:label "Forces of Stateland {n}a"@en , "Forces de l'Étatland {n}a"@fr ;
    kg:armedForcesOf id:S{n}a ; kg:supportedBy {c[3]} .
id:C{n} a kg:Cooperation ; rdfs:label "cooperation {n}"@en , "coopération {n}"@fr ; kg:actor id:F{n} ;
    kg:withPartner id:UnitedStates ; kg:location id:R{n} ; kg:supportedBy {c[3]} .
id:K{n} a kg:FinancialCommitment ; rdfs:label "commitment {n}"@en , "engagement {n}"@fr ;
    kg:provider id:S{n}a ; kg:recipient id:S{n}b ; kg:amount id:K{n}-amount ; kg:supportedBy {c[4]} .
id:K{n}-amount a schema:MonetaryAmount ; rdfs:label "{amount} dollars"@en , "{amount} dollars (fr)"@fr ;
    schema:value "{amount}"^^xsd:decimal ; schema:currency "CAD" ; kg:supportedBy {c[4]} .
"""


def claim_turtle(identifier: str, document: str, section: str, quote: str, start: int) -> str:
    """A claim quoting `quote`, found at code point `start` of its document's text."""
    escaped = quote.replace("\\", "\\\\").replace('"', '\\"')
    return f"""
claim:bench-{identifier} a kg:Claim ; dcterms:identifier "{identifier}" ; kg:section "{section}" ;
    kg:statement "{escaped}."@en ; oa:hasSource id:{document} ;
    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{escaped}" ] ,
        [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {start + len(quote)} ] .
"""


def document(number: int, rng: random.Random) -> tuple[str, str]:
    """(text, Turtle) of synthetic document `number`: TOPICS_PER_DOCUMENT topics of five claims each.
    Claim identifiers are C + 10 digits, numbered across documents (the shapes want them unique)."""
    name = f"bench-d{number:06d}"
    text, turtle = "", []
    claims: list[str] = []
    for topic in range(TOPICS_PER_DOCUMENT):
        n = f"{number:06d}-{topic:02d}"
        amount = rng.randrange(1, 1000) * 1_000_000
        section = f"SECTION {topic}"
        text += f"{section}\n"
        first = len(claims)
        for template in SENTENCES:
            quote = template.format(n=n, amount=amount)
            identifier = f"C{(number * TOPICS_PER_DOCUMENT + topic) * len(SENTENCES) + len(claims) - first:010d}"
            claims.append(identifier)
            turtle.append(claim_turtle(identifier, name, section, quote, len(text)))
            text += quote + ".\n"
        turtle.append(topic_turtle(n, [f"bench-{c}" for c in claims[first:]], amount))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    turtle.append(f"""
id:{name} a kg:SourceDocument ; dcterms:title "Synthetic document {number}"@en ; dcterms:language "en" ;
    kg:sourceFile "data/sources/{name}.txt" ; kg:sha256 "{digest}" ; dcterms:publisher id:{name}-government .
id:{name}-government a kg:Government ; rdfs:label "Government of document {number}"@en ,
    "Gouvernement du document {number}"@fr ; kg:supportedBy claim:bench-{claims[0]} .
""")
    return text, "".join(turtle)


def generate(target: Path, triples: int, seed: int = 1) -> int:
    """Write a project at `target` with about `triples` generated triples; return the number of documents."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in COPIED:
        shutil.copytree(ROOT / name, target / name)
    documents = max(1, round(triples / TRIPLES_PER_DOCUMENT))
    rng = random.Random(seed)
    parts = [PREFIXES, SHARED]
    for number in range(documents):
        text, turtle = document(number, rng)
        (target / "data" / "sources" / f"bench-d{number:06d}.txt").write_text(text, encoding="utf-8")
        parts.append(turtle)
    with (target / "data" / "statements.ttl").open("a", encoding="utf-8") as statements:
        statements.write("\n# Generated by bench/generate.py\n" + "".join(parts))
    return documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, required=True, help="about how many triples to generate")
    parser.add_argument("--out", type=Path, required=True, help="the project directory to (re)create")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    documents = generate(args.out, args.triples, args.seed)
    print(f"{args.out}: {documents} synthetic documents")


if __name__ == "__main__":
    main()
