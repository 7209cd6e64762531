-- a schema of the script's own, reached through search_path
CREATE SCHEMA app;
CREATE TABLE app.accounts (id int PRIMARY KEY, email text);
SET search_path = app, public;
ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';
CREATE INDEX ON accounts (email);
CREATE INDEX ON big (code);
