# Everyday tools on a guarded server: a dump of a guarded database
# restored into a guarded server four ways (pg_restore, pg_restore -j 2,
# pg_restore --single-transaction, psql -f of a plain dump), and pgbench -i,
# end with 0 errors, every constraint and index in place, and the audit
# history of the source whole, next to the rows the restore itself
# produced, with no id colliding.  Before, the restore's own ALTER ...
# OWNER TO rows took ids 1-3 and COPY of the source's rows failed on a
# duplicate key, and the primary key built on the freshly loaded large
# table was refused.
#
# What lets the restore through is that no session has used the table
# since it was created (unused_tables.c): each such statement is audited
# as 'unused_table'.  And the attacks on that signal: a table read by
# another session, filled by INSERT, or made to look created by CREATE
# TABLE IF NOT EXISTS in a transaction that altered it, is judged as
# always; a drop and a restart forget.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('restore');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = '1MB'
});
$node->start;

# The source: an application's schema, owned by an application role, with
# a history of guarded DDL in its audit log (ok, warned, refused)
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
CREATE DATABASE source OWNER app;
});
$node->safe_psql('source', q{
CREATE EXTENSION migration_guard;
SET ROLE app;
CREATE TABLE "Org" (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE "Project" (id int PRIMARY KEY, org_id int NOT NULL REFERENCES "Org",
                        name text, CONSTRAINT name_len CHECK (length(name) < 200));
CREATE INDEX project_name_idx ON "Project" (name);
INSERT INTO "Org" SELECT g, 'org ' || g FROM generate_series(1, 100) g;
INSERT INTO "Project" SELECT g, g % 100 + 1, 'p' || g FROM generate_series(1, 40000) g;
ALTER TABLE "Project" ADD COLUMN note text;
ALTER TABLE "Project" DROP COLUMN note;
});
my ($ret, $out, $err) = $node->psql('source', q{
ALTER TABLE "Project" ALTER COLUMN name SET NOT NULL;});
like($err, qr/would scan table "Project"/, 'the source has a refusal in its history');
my $history = $node->safe_psql('source',
	'SELECT count(*) FROM migration_guard.audit_log');
cmp_ok($history, '>=', 4, "the source's audit log has $history rows");

sub catalog
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || contype::text || ' ' || convalidated AS x
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'index ' || indexrelid::regclass || ' ' || indisvalid
    FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL
  SELECT 'rows ' || (SELECT count(*) FROM "Project") || ' ' || (SELECT count(*) FROM "Org")
) s});
}

sub audit_history
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
SELECT string_agg(verdict || ' ' || statement, E'\n' ORDER BY logged_at, id)
  FROM migration_guard.audit_log WHERE logged_at <= (SELECT max(logged_at) FROM migration_guard.audit_log WHERE verdict = 'blocked')});
}

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $source_catalog = catalog('source');
my $source_history = audit_history('source');
$node->command_ok([ 'pg_dump', '-Fc', '-f', "$tmp/source.dump", 'source' ], 'pg_dump -Fc');
$node->command_ok([ 'pg_dump', '-Fp', '-f', "$tmp/source.sql", 'source' ], 'pg_dump -Fp');

my %ways = (
	'pg_restore' => [ [ 'pg_restore', '-d', 'r1', "$tmp/source.dump" ] ],
	'pg_restore -j 2' => [ [ 'pg_restore', '-j', '2', '-d', 'r2', "$tmp/source.dump" ] ],
	'pg_restore --single-transaction' =>
	  [ [ 'pg_restore', '--single-transaction', '-d', 'r3', "$tmp/source.dump" ] ],
	'psql -f of a plain dump' =>
	  [ [ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-d', 'r4', '-f', "$tmp/source.sql" ] ],
	'pg_dump | psql' =>
	  [ [ 'pg_dump', '-d', 'source' ], '|', [ 'psql', '-X', '-q', '-d', 'r5' ] ]);
my %db = ('pg_restore' => 'r1', 'pg_restore -j 2' => 'r2',
	'pg_restore --single-transaction' => 'r3', 'psql -f of a plain dump' => 'r4',
	'pg_dump | psql' => 'r5');
for my $way (sort keys %ways)
{
	my $db = $db{$way};
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($stdout, $stderr) = ('', '');
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	my $ok = IPC::Run::run(@{ $ways{$way} }, '>', \$stdout, '2>', \$stderr);
	my @errors = grep { /ERROR|error:/ } split /\n/, $stderr;
	is(scalar(@errors), 0, "$way: no error") or diag(join("\n", @errors));
	is(catalog($db), $source_catalog, "$way: every constraint and index is in place, the rows too");
	# the restore's primary key, index and foreign key on the 2 MB table it
	# had just filled: let through, each audited (a single transaction
	# creates the tables in the same transaction: they are new, not judged)
	is($node->safe_psql($db, q{
SELECT count(*) > 0 FROM migration_guard.audit_log
 WHERE verdict = 'unused_table' AND relation_name LIKE '%"Project"'}),
		$way eq 'pg_restore --single-transaction' ? 'f' : 't',
		"$way: what it built on the freshly loaded table is audited as unused_table");
	is(audit_history($db), $source_history, "$way: the source's audit history arrived whole");
	is($node->safe_psql($db, q{
SELECT count(*) = count(DISTINCT id) AND count(*) >= } . $history . q{
  FROM migration_guard.audit_log}),
		't', "$way: next to the restore's own rows, no id twice");
	# and the restored database is guarded, its audit log written
	# catalog() read the table: it is in use now
	($ret, $out, $err) = $node->psql($db, q{
CREATE INDEX ON "Project" (org_id);});
	like($err, qr/CREATE INDEX would block writes/, "$way: the restored database is guarded");
	is($node->safe_psql($db, q{
SELECT verdict FROM migration_guard.audit_log ORDER BY id DESC LIMIT 1}),
		'blocked', "$way: and its refusal is the newest row");
}

# As the database's owner, not a superuser (as on managed services): a
# superuser creates the extension in the new database first, and the
# restore leaves out the extension's own entries (its schema, comment and
# audit rows: only the extension's owner may write those).  The guard
# needs no privilege: what the restore builds on the tables it has filled
# is let through, and audited
$node->safe_psql('postgres', 'CREATE DATABASE r6 OWNER app');
$node->safe_psql('r6', 'CREATE EXTENSION migration_guard');
{
	my ($list, $stdout, $stderr) = ('', '', '');
	IPC::Run::run([ 'pg_restore', '-l', "$tmp/source.dump" ], '>', \$list);
	open my $fh, '>', "$tmp/app.list" or die;
	print $fh join("\n", grep { !/ migration_guard / } split /\n/, $list), "\n";
	close $fh;
	IPC::Run::run([ 'pg_restore', '-U', 'app', '-L', "$tmp/app.list", '-d', 'r6', "$tmp/source.dump" ],
		'>', \$stdout, '2>', \$stderr,
		init => sub { $ENV{PGHOST} = $node->host; $ENV{PGPORT} = $node->port; });
	my @errors = grep { /ERROR|error:/ } split /\n/, $stderr;
	is(scalar(@errors), 0, 'pg_restore as the owner, not a superuser: no error') or diag(join("\n", @errors));
	is(catalog('r6'), $source_catalog, 'as the owner: every constraint and index is in place');
	is($node->safe_psql('r6', q{
SELECT count(*) > 0 FROM migration_guard.audit_log WHERE verdict = 'unused_table' AND role_name = 'app'}),
		't', 'as the owner: what it built on the fresh tables is audited, as the role that ran it');
}

# pgbench -i on a default install: pgbench_accounts is 13 MB, its primary
# key was refused and it printed TRUNCATE warnings for empty tables
$node->safe_psql('postgres', 'CREATE DATABASE bench');
$node->safe_psql('bench', 'CREATE EXTENSION migration_guard');
{
	my ($stdout, $stderr) = ('', '');
	my $ok = IPC::Run::run([ 'pgbench', '-i', '-s', '1', '-q', 'bench' ], '>', \$stdout, '2>', \$stderr,
		init => sub { $ENV{PGHOST} = $node->host; $ENV{PGPORT} = $node->port; });
	ok($ok, 'pgbench -i -s 1 exits 0');
	unlike($stderr, qr/WARNING|ERROR/, 'pgbench -i: no warning, no error') or diag($stderr);
	is($node->safe_psql('bench', q{
SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text LIKE 'pgbench_%'}),
		'3', 'pgbench -i: its primary keys are there');
	is($node->safe_psql('bench', q{
SELECT count(*) FROM migration_guard.audit_log
 WHERE verdict = 'unused_table' AND statement LIKE 'alter table pgbench_accounts add primary key%'}),
		'1', 'pgbench -i: the primary key on the 13 MB table, audited as unused_table');
}

# The attacks on the signal, by an ordinary role that owns its tables
$node->safe_psql('postgres', q{
CREATE ROLE dev LOGIN;
CREATE DATABASE attack OWNER dev;
});
$node->safe_psql('attack', 'CREATE EXTENSION migration_guard');
sub as_dev
{
	my ($sql) = @_;
	my ($r, $o, $e) = $node->psql('attack', $sql, extra_params => [ '-U', 'dev' ]);
	return $e;
}
as_dev(q{
CREATE TABLE loaded AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 40000) g;
CREATE TABLE read_by_app AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 40000) g;
CREATE TABLE inserted (id int, v text);
INSERT INTO inserted SELECT g, md5(g::text) FROM generate_series(1, 40000) g;
CREATE TABLE in_use (id int, v text);
});
# another session (the application) reads one of them
$node->safe_psql('attack', 'SELECT count(*) FROM read_by_app');
unlike(as_dev('CREATE INDEX ON loaded (v);'), qr/ERROR/,
	'a table filled as it was created and used by nobody: its index is let through');
like(as_dev('CREATE INDEX ON read_by_app (v);'), qr/ERROR:  CREATE INDEX would block writes/,
	'once another session has read it: refused');
like(as_dev('CREATE INDEX ON inserted (v);'), qr/ERROR:  CREATE INDEX would block writes/,
	'filled by INSERT after its creation (as an application writes): refused');
# a table in use, made to look created: CREATE TABLE IF NOT EXISTS in a
# transaction that changed its pg_class row
$node->safe_psql('attack', 'INSERT INTO in_use SELECT g, md5(g::text) FROM generate_series(1, 40000) g');
as_dev(q{
BEGIN;
ALTER TABLE in_use SET (fillfactor = 90);
CREATE TABLE IF NOT EXISTS in_use (id int, v text);
COMMIT;});
like(as_dev('CREATE INDEX ON in_use (v);'), qr/ERROR:  CREATE INDEX would block writes/,
	'CREATE TABLE IF NOT EXISTS of a table in use does not make it unused');
is($node->safe_psql('attack', q{
SELECT string_agg(relation_name || ' ' || verdict, ', ' ORDER BY id) FROM migration_guard.audit_log
 WHERE command = 'CREATE INDEX'}),
	'loaded unused_table, read_by_app blocked, inserted blocked, in_use blocked',
	'each audited: the one let through as unused_table');
# a drop forgets: 9,000 tables created and dropped, more than the 8,192
# the set holds (6,000 by DROP SCHEMA ... CASCADE, 3,000 by DROP TABLE),
# leave room for the next one
as_dev(q{DO $$
BEGIN
  FOR s IN 1..30 LOOP
    EXECUTE format('CREATE SCHEMA churn_%s', s);
    FOR t IN 1..200 LOOP
      EXECUTE format('CREATE TABLE churn_%s.t%s (id int)', s, t);
    END LOOP;
    COMMIT;
    EXECUTE format('DROP SCHEMA churn_%s CASCADE', s);
    COMMIT;
  END LOOP;
  FOR t IN 1..3000 LOOP
    EXECUTE format('CREATE TABLE churn_t%s (id int)', t);
    COMMIT;
    EXECUTE format('DROP TABLE churn_t%s', t);
    COMMIT;
  END LOOP;
END $$;
SET client_min_messages = warning;
CREATE TABLE after_churn AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 40000) g;
CREATE INDEX ON after_churn (v);});
is($node->safe_psql('attack', q{
SELECT verdict FROM migration_guard.audit_log WHERE relation_name = 'after_churn'}),
	'unused_table', 'after 9,000 tables created and dropped, a new table is still tracked');
# a restart forgets: a table nobody used is judged as always after it
as_dev('CREATE TABLE before_restart AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 40000) g');
$node->restart;
like(as_dev('CREATE INDEX ON before_restart (v);'), qr/ERROR:  CREATE INDEX would block writes/,
	'after a restart a table created before is judged as always');

$node->stop;
done_testing();
