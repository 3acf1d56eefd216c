-- The include graph's generation (docs/api.md#includes): every write checked for includes (each label move or removal, a
-- promotion or rollback, an archive, an experiment's start with includes, an import) expects the generation its checks of includes
-- read and advances it, in its own transaction. Two such writes can so never both pass a check that missed the other. One row.
CREATE TABLE include_graph (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;

INSERT INTO include_graph (id, generation) VALUES (1, 0);
