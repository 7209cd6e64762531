--
-- The schema and data behind README.md's "Rules reference": a small SaaS
-- (projects, users, their memberships and invitations, a partitioned event
-- log, a materialized view of per-project figures).  Every name and row
-- count the README's examples mention is here; the data is deterministic
-- (generate_series, md5), so that every run measures the same sizes.
--
-- Loaded by test/readme/render.sh into a fresh database that has the
-- extension.  Everything is created in one transaction: the guard never
-- judges a table created in the current transaction, so none of this needs
-- an override.
--
SET TimeZone = 'UTC';

BEGIN;

CREATE TABLE users (
    id         bigint PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO users
SELECT g, 'user' || g || '@example.com', 'User ' || g,
       '2023-01-01 00:00:00+00'::timestamptz + g * interval '30 minutes'
  FROM generate_series(1, 20000) g;

-- created_at is a timestamp without time zone (the README converts it);
-- slug is nullable (the README makes it NOT NULL); no index on status
CREATE TABLE projects (
    id          bigint PRIMARY KEY,
    owner_id    bigint NOT NULL,
    name        text NOT NULL,
    slug        text,
    status      text NOT NULL,
    description text,
    seat_count  integer NOT NULL,
    legacy_flag boolean,
    created_at  timestamp NOT NULL
);
INSERT INTO projects
SELECT g, (g - 1) % 20000 + 1, 'Project ' || g, 'project-' || g,
       (ARRAY['active', 'active', 'active', 'archived', 'deleted'])[g % 5 + 1],
       'Project of team ' || g,
       g % 50 + 1, g % 10 = 0,
       '2023-01-01 00:00:00'::timestamp + g * interval '10 minutes'
  FROM generate_series(1, 50000) g;
CREATE INDEX projects_owner_id_idx ON projects (owner_id);
CREATE INDEX projects_created_at_idx ON projects (created_at);

-- no foreign keys yet: the README adds them
CREATE TABLE project_members (
    id         bigint PRIMARY KEY,
    project_id bigint NOT NULL,
    user_id    bigint NOT NULL,
    role       text NOT NULL
);
INSERT INTO project_members
SELECT g, (g - 1) % 50000 + 1, (g * 7) % 20000 + 1,
       (ARRAY['owner', 'admin', 'member', 'member'])[g % 4 + 1]
  FROM generate_series(1, 60000) g;
CREATE INDEX project_members_project_id_idx ON project_members (project_id);

-- the one foreign key: dropping its column or the table locks projects too
CREATE TABLE project_invites (
    id         bigint PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id),
    email      text NOT NULL,
    token      text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO project_invites
SELECT g, (g * 3) % 50000 + 1, 'invitee' || g || '@example.com',
       md5('token' || g),
       '2025-01-01 00:00:00+00'::timestamptz + g * interval '20 minutes'
  FROM generate_series(1, 25000) g;

-- an old audit table that a migration empties
CREATE TABLE audit_events_old (
    id         bigint PRIMARY KEY,
    project_id bigint NOT NULL,
    created_at timestamptz NOT NULL,
    action     text NOT NULL
);
INSERT INTO audit_events_old
SELECT g, (g - 1) % 50000 + 1,
       '2022-01-01 00:00:00+00'::timestamptz + g * interval '5 minutes',
       (ARRAY['login', 'logout', 'invite', 'export'])[g % 4 + 1]
  FROM generate_series(1, 60000) g;

-- partitioned by year: 2024 and 2025 attached, 2026 loaded apart (without
-- the parent's index) and attached by the README
CREATE TABLE events (
    id         bigint NOT NULL,
    project_id bigint NOT NULL,
    user_id    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    kind       text NOT NULL
) PARTITION BY RANGE (created_at);
CREATE TABLE events_2024 PARTITION OF events
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE events_2025 PARTITION OF events
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE INDEX events_project_id_created_at_idx ON events (project_id, created_at);
INSERT INTO events
SELECT g, (g * 13) % 50000 + 1, (g * 7) % 20000 + 1,
       '2024-01-01 00:00:00+00'::timestamptz + (g - 1) * interval '1 year' / 50000,
       (ARRAY['project.member_added', 'project.member_removed',
              'project.settings_saved'])[g % 3 + 1]
  FROM generate_series(1, 50000) g;
INSERT INTO events
SELECT 50000 + g, (g * 13) % 50000 + 1, (g * 7) % 20000 + 1,
       '2025-01-01 00:00:00+00'::timestamptz + (g - 1) * interval '1 year' / 50000,
       (ARRAY['project.member_added', 'project.member_removed',
              'project.settings_saved'])[g % 3 + 1]
  FROM generate_series(1, 50000) g;
CREATE TABLE events_2026 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO events_2026
SELECT 100000 + g, (g * 13) % 50000 + 1, (g * 7) % 20000 + 1,
       '2026-01-01 00:00:00+00'::timestamptz + (g - 1) * interval '1 year' / 30000,
       (ARRAY['project.member_added', 'project.member_removed',
              'project.settings_saved'])[g % 3 + 1]
  FROM generate_series(1, 30000) g;

-- one row per project, without a unique index (REFRESH ... CONCURRENTLY
-- would need one)
CREATE MATERIALIZED VIEW project_stats AS
SELECT p.id AS project_id, count(m.id) AS member_count
  FROM projects p LEFT JOIN project_members m ON m.project_id = p.id
 GROUP BY p.id;

COMMIT;

VACUUM ANALYZE;

-- the application uses every table (the guard lets through what it would
-- refuse on a table no session has used since it was created)
SELECT count(*) FROM users, projects, project_members, project_invites,
       audit_events_old, events, events_2026, project_stats WHERE false;
