-- RAG generations: while a changed embedder re-indexes, a source keeps the
-- chunks of the serving embedder and gains those of the new one, so a
-- chunk position is unique per source AND embedder and dimension.
-- SQLite cannot change a constraint, so the table is rebuilt with the same
-- columns, ids and indexes (no table references it).
CREATE TABLE document_chunk_rebuilt (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id     VARCHAR(32) NOT NULL,
    source_id    INTEGER NOT NULL REFERENCES document_source (id) ON DELETE CASCADE,
    chunk_index  INTEGER NOT NULL,
    content      TEXT NOT NULL,
    embedding    BLOB,
    token_count  INTEGER NOT NULL,
    metadata     TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    embedder     VARCHAR(200),
    dimension    INTEGER,
    CONSTRAINT uq_source_chunk_index UNIQUE (source_id, embedder, dimension, chunk_index)
);
INSERT INTO document_chunk_rebuilt
    (id, chunk_id, source_id, chunk_index, content, embedding, token_count, metadata,
     created_at, updated_at, embedder, dimension)
SELECT id, chunk_id, source_id, chunk_index, content, embedding, token_count, metadata,
       created_at, updated_at, embedder, dimension
FROM document_chunk;
DROP TABLE document_chunk;
ALTER TABLE document_chunk_rebuilt RENAME TO document_chunk;
CREATE UNIQUE INDEX ix_document_chunk_chunk_id ON document_chunk (chunk_id);
CREATE INDEX ix_document_chunk_source_id ON document_chunk (source_id);
