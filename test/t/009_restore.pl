# Everyday tools on a guarded server, with default settings: a dump of a
# guarded database restored into a guarded server four ways (pg_restore,
# pg_restore -j 2, pg_restore --single-transaction, psql -f of a plain
# dump) ends with 0 errors, every constraint and index in place, and the
# audit history of the source whole, next to the rows the restore itself
# produced, with no id colliding.  Before, the restore's own ALTER ...
# OWNER TO rows took ids 1-3 and COPY of the source's rows failed on a
# duplicate key: the history was lost.
#
# The fixture's tables are below the default large_table_threshold: the
# restore of a large table (its primary key built on freshly loaded rows)
# is not covered here yet.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('restore');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
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
INSERT INTO "Org" SELECT g, 'org ' || g FROM generate_series(1, 100) g;
INSERT INTO "Project" SELECT g, g % 100 + 1, 'p' || g FROM generate_series(1, 5000) g;
CREATE INDEX project_name_idx ON "Project" (name);
ALTER TABLE "Project" ADD COLUMN note text;
ALTER TABLE "Project" DROP COLUMN note;
});
my ($ret, $out, $err) = $node->psql('source', q{
SET migration_guard.large_table_threshold = 0;
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
	'pg_restore' => [ 'pg_restore', '-d', 'r1', "$tmp/source.dump" ],
	'pg_restore -j 2' => [ 'pg_restore', '-j', '2', '-d', 'r2', "$tmp/source.dump" ],
	'pg_restore --single-transaction' =>
	  [ 'pg_restore', '--single-transaction', '-d', 'r3', "$tmp/source.dump" ],
	'psql -f of a plain dump' => [ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-d', 'r4', '-f', "$tmp/source.sql" ]);
my %db = ('pg_restore' => 'r1', 'pg_restore -j 2' => 'r2',
	'pg_restore --single-transaction' => 'r3', 'psql -f of a plain dump' => 'r4');
for my $way (sort keys %ways)
{
	my $db = $db{$way};
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($stdout, $stderr) = ('', '');
	my $ok = IPC::Run::run($ways{$way}, '>', \$stdout, '2>', \$stderr,
		init => sub { $ENV{PGHOST} = $node->host; $ENV{PGPORT} = $node->port; });
	my @errors = grep { /ERROR|error:/ } split /\n/, $stderr;
	is(scalar(@errors), 0, "$way: no error") or diag(join("\n", @errors));
	is(catalog($db), $source_catalog, "$way: every constraint and index is in place, the rows too");
	is(audit_history($db), $source_history, "$way: the source's audit history arrived whole");
	is($node->safe_psql($db, q{
SELECT count(*) = count(DISTINCT id) AND count(*) >= } . $history . q{
  FROM migration_guard.audit_log}),
		't', "$way: next to the restore's own rows, no id twice");
	# and the restored database is guarded, its audit log written
	($ret, $out, $err) = $node->psql($db, q{
SET migration_guard.large_table_threshold = 0;
CREATE INDEX ON "Project" (org_id);});
	like($err, qr/CREATE INDEX would block writes/, "$way: the restored database is guarded");
	is($node->safe_psql($db, q{
SELECT verdict FROM migration_guard.audit_log ORDER BY id DESC LIMIT 1}),
		'blocked', "$way: and its refusal is the newest row");
}

$node->stop;
done_testing();
