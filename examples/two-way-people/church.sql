-- The church's own system ("own installation", Ferry's source side).
CREATE TABLE people (
  id serial PRIMARY KEY,
  first_name text,
  last_name text,
  email text,
  status text,          -- Member, Friend, Guest, ...
  family_status text,   -- Married, Single, ...
  archived boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bookings (
  id serial PRIMARY KEY,
  person_id int REFERENCES people(id),
  amount numeric(10,2),
  booked_on date,
  purpose text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Like most applications, every write moves the modification time.
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;
CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch();

INSERT INTO people (first_name, last_name, email, status, family_status) VALUES
  ('John', 'Smith', 'john.smith@example.org', 'Member', 'Married'),
  ('Mary', 'Jones', 'mary.jones@example.org', 'Friend', 'Married'),
  ('Peter', 'Brown', 'peter.brown@example.org', 'Member', 'Single'),
  ('Ruth', 'Green', 'ruth.green@example.org', 'Guest', 'Married');
