-- a default calling a function the script creates: the server inlines
-- the SQL function (no rewrite); check() cannot see its body and says
-- unknown, never an error or a refusal
CREATE FUNCTION made_default() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER TABLE big ADD COLUMN made int DEFAULT made_default();
CREATE INDEX ON big (n);
