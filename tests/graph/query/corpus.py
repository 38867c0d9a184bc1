"""The validator's corpora: hostile Cypher it must refuse, legitimate Cypher it must accept.

Shared by the unit tests (``test_cypher``) and the FalkorDB integration test, which runs every
legitimate query on a real server to show that the rewritten text is valid Cypher that stays
inside its scope.
"""

from __future__ import annotations

HOSTILE: dict[str, list[str]] = {
    "writes": [
        "CREATE (n:Entity {name: 'x'})",
        "MATCH (n) CREATE (m:Entity) RETURN m",
        "MERGE (n:Entity {name: 'x'}) RETURN n",
        "MATCH (n:Entity) SET n.name = 'x' RETURN n",
        "MATCH (n:Entity) DELETE n",
        "MATCH (n:Entity) DETACH DELETE n",
        "MATCH (n:Entity) REMOVE n.name RETURN n",
        "MATCH ()-[r:RELATES]->() DELETE r RETURN count(r)",
        "match (n) detach delete n",
        "MaTcH (n) DeLeTe n RETURN 1",
        "MATCH (n) WITH n SET n.x = 1 RETURN n",
        "MATCH (n) FOREACH (x IN [1] | SET n.x = x) RETURN n",
        "MATCH (n) WITH n MATCH (m) WHERE m.name = n.name SET m.x = 1 RETURN m",
        "CREATE INDEX FOR (e:Entity) ON (e.name)",
        "DROP INDEX ON :Entity(name)",
    ],
    "load csv": [
        "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
        "LOAD CSV WITH HEADERS FROM 'http://evil.example/x.csv' AS row RETURN row",
    ],
    "procedures and functions": [
        "CALL db.labels()",
        "CALL db.labels() YIELD label RETURN label",
        "MATCH (n) CALL { WITH n DETACH DELETE n } RETURN 1",
        "RETURN db.labels()",
        "MATCH (n) RETURN apoc.text.join([n.name], ',')",
        "CALL db.idx.fulltext.createNodeIndex('Entity', 'name')",
        "CALL dbms.procedures()",
        "MATCH (n) RETURN algo.pageRank(n)",
        "MATCH (n) RETURN vec.cosineDistance(n.name, n.name)",
        "MATCH (n) RETURN toJSON(n)",
        "UNWIND range(1, 100000000) AS x RETURN count(x)",
        "MATCH (n) RETURN n.embedding",
    ],
    "comments": [
        "MATCH (n) RETURN n // DETACH DELETE",
        "MATCH (n) /* hidden */ RETURN n",
        "MATCH (n) RETURN n /* ; CREATE (m) */",
        "MATCH (n) RETURN n //",
    ],
    "string tricks": [
        "MATCH (n) WHERE n.name = 'a' CREATE (m) RETURN m",
        "MATCH (n) WHERE n.name = 'it\\'s' DELETE n RETURN 1",
        'MATCH (n) WHERE n.name = "x\\\\" DELETE n RETURN 1',
        "MATCH (n) WHERE n.name = 'never closed RETURN n",
        "MATCH (n) WHERE n.name = '\\u0027 DELETE n //' RETURN n",
        "MATCH (n) RETURN '\\x41'",
        "MATCH (n:`Entity`) RETURN n",
        "MATCH (`CREATE`) RETURN 1",
        "MATCH (n) RETURN n.name AS `x`",
        "MATCH (n) WHERE n['user' + '_id'] = 'bob' RETURN n",
    ],
    "scope overrides": [
        "MATCH (n:Entity {user_id: 'bob'}) RETURN n.name",
        "MATCH (n:Entity) WHERE n.user_id = 'bob' RETURN n.name",
        "MATCH (n:Entity) WHERE n.user_id <> 'alice' OR true RETURN n.name",
        "MATCH (n:Entity) WHERE n.skey STARTS WITH 'bob' RETURN n.name",
        "MATCH (n:Entity) RETURN n.name, n.agent_id",
        "MATCH (n:Entity {name: 'x'}) WHERE n.run_id IS NULL RETURN n",
        "MATCH (n:Entity) WHERE n['user_id'] = 'bob' RETURN n",
        "MATCH ()-[r:RELATES {user_id: 'bob'}]->() RETURN r",
        "MATCH (n:Entity) WHERE n.name = $user_id RETURN n",
        "MATCH (n:Entity {name: $name}) RETURN n",
        "MATCH (n) RETURN n LIMIT $limit",
        "MATCH (_ml_r1) RETURN _ml_r1",
        "MATCH (n:Entity) WITH n, {user_id: 'bob'} AS s RETURN n",
    ],
    "unbounded paths": [
        "MATCH (a)-[*]->(b) RETURN b",
        "MATCH (a)-[r*]->(b) RETURN b",
        "MATCH (a)-[r:RELATES*1..]->(b) RETURN b",
        "MATCH (a)-[r:RELATES*2..]->(b) RETURN b",
        "MATCH (a)-[r:RELATES*..50]->(b) RETURN b",
        "MATCH (a)-[r:RELATES*10]->(b) RETURN b",
        "MATCH (a)-[r:RELATES*0..1000000]-(b) RETURN b",
        "MATCH (a)-[r:RELATES*1.5]-(b) RETURN b",
        "MATCH p = shortestPath((a)-[*]-(b)) RETURN p",
    ],
    "multiple statements": [
        "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
        "MATCH (n) RETURN n;;",
        "MATCH (n) RETURN n; RETURN 1",
        "MATCH (n) RETURN n UNION MATCH (m) RETURN m",
        "MATCH (n) RETURN n UNION ALL MATCH (m) DELETE m",
        "MATCH (n) RETURN count(n) AS c MATCH (m) RETURN m",
    ],
    "unicode look-alikes": [
        "MATCH (n) \u0421REATE (m) RETURN m",
        "MATCH (n) RETURN n\u200b",
        "\uff2d\uff21\uff34\uff23\uff28 (n) RETURN n",
        "MATCH (n) DEL\u0415TE n RETURN 1",
        "MATCH\u00a0(n) RETURN n",
        "MATCH (n) RETURN n \u037e MATCH (m) DELETE m",
        "MATCH (n) RETURN n\u2028CREATE (m)",
    ],
    "subqueries and patterns outside MATCH": [
        "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) } RETURN n",
        "MATCH (n) WHERE COUNT { (n)-->() } > 1 RETURN n",
        "MATCH (n) RETURN [(n)-->(m) | m.name]",
        "MATCH (n) WHERE (n)-[:RELATES]->(:Entity) RETURN n",
        "MATCH (n) WHERE exists((n)<--()) RETURN n",
        "MATCH (n) RETURN n, [x IN [1] WHERE x = 1 | (n)--()]",
        "MATCH (n) WHERE (m:Entity) RETURN n",
        "MATCH (n) WITH n MATCH (m) WHERE (x {name: 'y'}) RETURN m",
    ],
    "outside the graph's shape": [
        "MATCH (n:Secret) RETURN n",
        "MATCH (n)-[r:KNOWS]->(m) RETURN m",
        "MATCH (n:Entity:Admin) RETURN n",
        "MATCH (a)<-[r]->(b) RETURN a",
    ],
    "malformed or unbounded": [
        "",
        "   ",
        "RETURN",
        "MATCH (n)",
        "MATCH (n) RETURN n LIMIT 1 + 1000000",
        "MATCH (n) RETURN n SKIP -1",
        "USE other MATCH (n) RETURN n",
        "EXPLAIN MATCH (n) RETURN n",
        "PROFILE MATCH (n) DELETE n",
        "GRAPH.QUERY memlane 'MATCH (n) DELETE n'",
        "MATCH (n) RETURN (n",
        "MATCH (n) RETURN n]",
        "MATCH (n) RETURN n" + " " * 2000 + ", n.name",
    ],
}

LEGITIMATE = [
    "MATCH (u:Entity)-[r:RELATES]->(c:Entity) WHERE toLower(u.name) = 'alice' AND r.name = 'works_at' "
    "AND r.invalidated_at IS NULL RETURN c.name, r",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN a.name, r.name, b.name ORDER BY a.name LIMIT 10",
    "MATCH (a:Entity {name: 'alice'})-[r:RELATES*1..2]->(b) RETURN b.name",
    "MATCH (a)-->(b) RETURN a.name, b.name",
    "MATCH (a)<--(b) RETURN count(*) AS n",
    "MATCH (a)--(b) RETURN DISTINCT a.name",
    "MATCH (a:Entity)-[r:RELATES]-(b:Entity) WITH a, count(r) AS degree "
    "RETURN a.name, degree ORDER BY degree DESC, a.name LIMIT 3",
    "MATCH (a:Entity) OPTIONAL MATCH (a)-[r:RELATES]->(b:Entity) RETURN a.name, collect(b.name) AS targets",
    "MATCH (a:Entity) WHERE a.name STARTS WITH 'A' OR a.name ENDS WITH 'n' OR a.name CONTAINS 'er' "
    "RETURN a.name",
    "MATCH p = (a:Entity)-[:RELATES*1..3]->(b:Entity) WHERE toLower(a.name) = 'alice' "
    "RETURN [n IN nodes(p) | n.name] AS names, length(p) AS hops",
    "UNWIND ['Acme', 'Berlin'] AS wanted MATCH (e:Entity) WHERE e.name = wanted RETURN e.name",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) WHERE r.name IN ['works_at', 'lives_in'] "
    "AND r.invalidated_at IS NULL RETURN a.name, r.name, b.name SKIP 0 LIMIT 1000",
    "MATCH (a:Entity)-[r:RELATES]->(b) "
    "RETURN CASE WHEN r.mentions > 1 THEN 'often' ELSE 'once' END AS how, b.name",
    "MATCH (a:Entity)-[r:RELATES {name: 'works_at'}]->(b:Entity) RETURN b.name;",
    "match (a:Entity)-[r:RELATES]->(b:Entity) where r.valid_from >= '2020' "
    "return b.name order by r.valid_from desc",
    "MATCH (a:Entity), (b:Entity) WHERE a.name = 'Acme' AND b.name = 'Berlin' RETURN a.name, b.name",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN r.name AS relation, count(*) AS n ORDER BY n DESC",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) WHERE NOT r.invalidated_at IS NULL "
    "RETURN a.name, r.name, b.name, r.valid_to",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN a.name + ' ' + r.name + ' ' + b.name AS fact",
    "MATCH (a:Entity) WHERE a.name = 'O\\'Brien' RETURN a.name",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) WITH b, collect(r.name) AS rels WHERE size(rels) > 0 "
    "RETURN b.name, rels",
    "MATCH (a:Entity)-[r:RELATES*2]->(b:Entity) RETURN DISTINCT b.name",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) WHERE any(m IN r.memory_ids WHERE m STARTS WITH 'm') "
    "RETURN b.name",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) WHERE a.name IN ['alice'] RETURN b.name, r.created_at "
    "ORDER BY r.created_at",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN a.name, head(collect(b.name)) AS first",
    'MATCH (a:Entity)-[r:RELATES]->(b:Entity) WHERE a.name = "alice" RETURN b.name, r.mentions * 2 - 1 AS x',
    "MATCH (a)-[r]->(b) RETURN a.name, b.name, r.name",
    "MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN a.name, properties(r).name AS kind",
    "MATCH (a:Entity)\n  -[r:RELATES]->\n  (b:Entity)\nRETURN b.name AS name, r",
    "MATCH (a:Entity) WHERE a.name = 'München' RETURN a.name",
    "MATCH (a:Entity)-[r1:RELATES]->(c:Entity)-[r2:RELATES]->(d:Entity) WHERE 'alice' IN a.names "
    "AND r1.name = 'works_at' AND r2.name = 'located_in' RETURN c.name, d.name",
]
