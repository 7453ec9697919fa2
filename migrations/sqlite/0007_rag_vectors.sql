-- RAG: which embedder made each stored vector, and its length. Vectors are
-- only compared with vectors of the same embedder and dimension, so a
-- changed embedding configuration never mixes vector spaces.
ALTER TABLE document_chunk ADD COLUMN embedder VARCHAR(200);
ALTER TABLE document_chunk ADD COLUMN dimension INTEGER;
