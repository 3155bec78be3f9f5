-- The loyalty system of record the export flows read (created by the demo's export step).
CREATE TABLE members (
  id bigint PRIMARY KEY,
  card_number text NOT NULL UNIQUE,
  first_name text,
  last_name text,
  email text,
  tier text NOT NULL,
  points integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_updated_idx ON members (updated_at, id);

CREATE TABLE product_items (
  sku text PRIMARY KEY,
  title text NOT NULL,
  category text NOT NULL,
  points_price integer NOT NULL,
  active boolean NOT NULL DEFAULT true
);

-- Support cases; every change is an event (Ferry installs a change-log trigger on this table).
CREATE TABLE cases (
  id bigint PRIMARY KEY,
  member_id bigint NOT NULL REFERENCES members (id),
  status text NOT NULL,
  subject text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
