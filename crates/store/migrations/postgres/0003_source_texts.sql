-- The stored text of every cited source, written with the report that cites it, so that any
-- process (a site on another host than the worker that fetched a page) can show a quote in
-- place. A document id is derived from its title and text, so one id is one text: a row is
-- written once and never changed.
CREATE TABLE source_texts (
    kb     TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    title  TEXT NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (kb, doc_id)
);
