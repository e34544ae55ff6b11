-- Issue 12: never shared, completely.
-- Code lists imported with `sharedcare codes import` (or the admin API): one row per list, named,
-- with the version and date it carries, and its codes. In force beside the configured lists;
-- changing them relabels the store.
CREATE TABLE IF NOT EXISTS code_list (
  name text PRIMARY KEY,
  version text,
  list_date text,
  source_file text,
  digest text NOT NULL,
  code_count int NOT NULL,
  imported_at timestamptz NOT NULL,
  imported_by text NOT NULL
);

CREATE TABLE IF NOT EXISTS code_list_entry (
  list_name text NOT NULL REFERENCES code_list(name) ON DELETE CASCADE,
  category text NOT NULL,
  system text NOT NULL,
  code text NOT NULL,
  match text NOT NULL CHECK (match IN ('exact', 'prefix', 'context')),
  PRIMARY KEY (list_name, category, system, code, match)
);

-- The information-governance team's review queue: items that the free-text screen flagged (and no
-- code withheld). Withheld from everyone while pending; a decision (confirmed: stays withheld as
-- sensitive; released: shown) holds for as long as the item's flagged words are the same
-- (digest), across relabelling. Keyed by the item; the person id is kept for the label walk.
CREATE TABLE IF NOT EXISTS sensitivity_review (
  item_id uuid PRIMARY KEY,
  person_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'released')),
  matches jsonb NOT NULL,
  digest text NOT NULL,
  flagged_at timestamptz NOT NULL,
  decided_by text,
  decided_org text,
  decided_at timestamptz
);
CREATE INDEX IF NOT EXISTS sensitivity_review_pending ON sensitivity_review (flagged_at) WHERE status = 'pending';
