-- defaults: constant (no rewrite), volatile (rewrite, refused)
ALTER TABLE big ADD COLUMN flag boolean NOT NULL DEFAULT false;
ALTER TABLE big ADD COLUMN created timestamptz DEFAULT now();
ALTER TABLE big ADD COLUMN token uuid DEFAULT gen_random_uuid();
