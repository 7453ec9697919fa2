-- RAG generations: while a changed embedder re-indexes, a source keeps the
-- chunks of the serving embedder and gains those of the new one, so a
-- chunk position is unique per source AND embedder and dimension.
ALTER TABLE document_chunk DROP CONSTRAINT uq_source_chunk_index;
ALTER TABLE document_chunk ADD CONSTRAINT uq_source_chunk_index
    UNIQUE (source_id, embedder, dimension, chunk_index);
