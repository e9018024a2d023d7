-- The knowledge base a check asked for (the submitting site's); a worker that searches another
-- one does not take it. NULL (checks from before this column) is taken by any worker.
ALTER TABLE checks ADD COLUMN kb TEXT;
