-- Schema version 15: search finds the words that superscript citation numbers are glued to ("stimuli48,49");
-- see the SQLite migration of the same number. search_sentence: the sentence with a separator between each word
-- and its glued callout, NULL where that is the sentence itself; search_text (and so tsv) is made from it, and
-- search snippets are cut from it. The store fills both in for the sentences stored before, after this script
-- (a Python step, as search_text always was).
-- SQLite's schema 15 also indexes statements by sentence with the filtered columns; here that did not pay (the
-- planner reads the matching statements by type and tests each sentence's tsv: 1.8-2.0 s for "expression" with
-- type=contrasting at 1 M statements with or without it; docs/benchmarks.md), so there is none.
ALTER TABLE contexts ADD COLUMN IF NOT EXISTS search_sentence TEXT;
