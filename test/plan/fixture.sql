-- The database every scenario of test/t/014_plan.pl starts from (used as a
-- template): a small SaaS, big enough that its main tables are over the
-- test's migration_guard.large_table_threshold (128kB), small enough to be
-- copied in a moment. Every value is deterministic.
SET migration_guard.mode = off;
SET TimeZone = 'UTC';
CREATE EXTENSION migration_guard;

-- 5,000 users (350 kB)
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL UNIQUE,
    plan text NOT NULL DEFAULT 'free'
);
INSERT INTO users
SELECT g, 'user' || g || '@example' || (g % 7) || '.com',
       CASE WHEN g % 10 = 0 THEN 'team' WHEN g % 10 < 4 THEN 'pro' ELSE 'free' END
  FROM generate_series(1, 5000) g;

-- 500 organizations (small)
CREATE TABLE organizations (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO organizations SELECT g, 'org-' || g FROM generate_series(1, 500) g;

-- 7,500 projects (700 kB): names unique, budget NULL for one in ten, status
-- never NULL but not declared NOT NULL
CREATE TABLE projects (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    owner_id bigint NOT NULL REFERENCES users,
    status text,
    budget int,
    created_at timestamptz NOT NULL DEFAULT now(),
    description text,
    archived_at timestamptz
);
INSERT INTO projects
SELECT g, 'project-' || g, 1 + (g * 7) % 5000,
       (ARRAY['active', 'archived', 'draft'])[1 + g % 3],
       CASE WHEN g % 10 <> 0 THEN (g * 37) % 10000 END,
       timestamptz '2024-01-01 00:00+00' + g * interval '1 minute',
       CASE WHEN g % 4 = 0 THEN 'description of project ' || g END,
       CASE WHEN g % 3 = 1 THEN timestamptz '2024-06-01 00:00+00' + g * interval '1 second' END
  FROM generate_series(1, 7500) g;
CREATE INDEX projects_owner_id_idx ON projects (owner_id);
CREATE INDEX projects_created_at_idx ON projects (created_at);

-- events, partitioned by month: three partitions (600 kB in all) and April
-- loaded beside it, ready to be attached (380 kB)
CREATE TABLE events (
    id bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind text NOT NULL,
    project_id bigint,
    payload text,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_2024_01 PARTITION OF events FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE events_2024_02 PARTITION OF events FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
CREATE TABLE events_2024_03 PARTITION OF events FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
CREATE INDEX events_project_id_idx ON events (project_id);
INSERT INTO events
SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '21 minutes 36 seconds',
       (ARRAY['created', 'updated', 'deleted'])[1 + g % 3], 1 + g % 7500, md5(g::text)
  FROM generate_series(1, 6000) g;
CREATE TABLE events_2024_04 (LIKE events INCLUDING ALL);
INSERT INTO events_2024_04
SELECT 100000 + g, timestamptz '2024-04-01 00:00+00' + (g * 2) * interval '1 minute',
       (ARRAY['created', 'updated', 'deleted'])[1 + g % 3], 1 + g % 7500, md5(g::text)
  FROM generate_series(1, 3750) g;

-- a materialized view (400 kB) with a unique index, stale: users changed
-- plan after it was refreshed
CREATE MATERIALIZED VIEW user_directory AS
SELECT id, email, plan, split_part(email, '@', 2) AS domain FROM users;
CREATE UNIQUE INDEX user_directory_id_idx ON user_directory (id);
UPDATE users SET plan = 'enterprise' WHERE id % 50 = 0;

-- a table as Prisma names it: quoted mixed-case names, a text key (330 kB)
CREATE TABLE "Invoice" (
    id text PRIMARY KEY,
    "userId" bigint NOT NULL,
    "amountCents" int NOT NULL,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "Invoice"
SELECT 'inv_' || lpad(g::text, 8, '0'), 1 + g % 5000, (g * 13) % 100000,
       timestamptz '2024-01-01 00:00+00' + g * interval '1 hour'
  FROM generate_series(1, 5000) g;

-- leftovers: a table nobody reads any more, and a staging table of an import
CREATE TABLE legacy_audit (
    id bigint PRIMARY KEY,
    happened_at timestamptz NOT NULL,
    note text
);
INSERT INTO legacy_audit
SELECT g, timestamptz '2020-01-01 00:00+00' + g * interval '1 hour', 'legacy ' || g
  FROM generate_series(1, 1000) g;
CREATE TABLE import_staging (line int, raw text);
INSERT INTO import_staging SELECT g, 'raw line ' || g FROM generate_series(1, 1000) g;
