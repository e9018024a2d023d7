-- A document check (`POST /api/documents`): what the worker needs besides `input` (the text, or
-- the page's address), as JSON `{"origin": "text"|"url", "title", "max_claims"}`. NULL: the
-- check of one question or claim.
ALTER TABLE checks ADD COLUMN document TEXT;
