-- Schema version 13: why a work was retracted (or corrected, or questioned), and the source's own id of the notice.
-- Retraction Watch gives each notice its reasons ("Falsification/Fabrication of Data; Investigation by Journal/
-- Publisher") and a Record ID; the notices table had nowhere to keep either, so an integrity team saw that a work was
-- retracted but not why. `reasons` holds them one a line; '' where the source gives none (every notice stored before).
ALTER TABLE notices ADD COLUMN reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE notices ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
