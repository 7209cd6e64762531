-- Your SQL goes here
ALTER TABLE tags ADD COLUMN color VARCHAR(7);
SELECT diesel_manage_updated_at('tags');
