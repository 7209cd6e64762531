-- A CHECK without a long lock: NOT VALID, then VALIDATE, each in a
-- transaction of its own (executeInTransaction=false in the .conf beside
-- this file). In one transaction the VALIDATE would scan projects while
-- the first statement's ACCESS EXCLUSIVE lock is still held.
ALTER TABLE projects ADD CONSTRAINT projects_name_length
    CHECK (char_length(name) <= 200) NOT VALID;
ALTER TABLE projects VALIDATE CONSTRAINT projects_name_length;
