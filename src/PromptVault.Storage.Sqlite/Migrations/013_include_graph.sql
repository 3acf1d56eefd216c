-- The include graph's generation (docs/api.md#includes): every write that makes a version with includes serve (a label
-- move, a rollback, an experiment's start) expects the generation its check for cycles read and advances it, in its own
-- transaction. Two such writes can so never both pass a check that missed the other. One row.
CREATE TABLE include_graph (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;

INSERT INTO include_graph (id, generation) VALUES (1, 0);
