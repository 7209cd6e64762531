ALTER TABLE teams ADD COLUMN plan text NOT NULL DEFAULT 'free';
ALTER TABLE teams ADD COLUMN seats integer;
