-- The report version a reader's error report refers to (the one the page showed).
ALTER TABLE error_reports ADD COLUMN version INTEGER;
