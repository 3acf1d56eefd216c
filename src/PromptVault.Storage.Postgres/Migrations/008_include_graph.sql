-- The include graph's generation: the SQLite store's 013_include_graph.sql, which explains it. One row.
CREATE TABLE include_graph (
    id         integer NOT NULL PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL
);

INSERT INTO include_graph (id, generation) VALUES (1, 0);
