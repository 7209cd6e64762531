# Production's sizes without production: migration_guard.export_sizes() on
# a large database, handed to the command-line dry run (--sizes FILE,
# --sizes-from CONNINFO) or to check(sql, transaction, sizes) on a small CI
# database with the same schema, gives the verdicts the large database
# gives, statement by statement; relations the sizes do not name are
# measured as always.  The attacks: export_sizes() is for pg_monitor, not
# PUBLIC; sizes given to check() never reach the guard (a table made to
# look small in check() is still refused when the statement runs); bad
# sizes are an error that names what is expected.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);

my $node = PostgreSQL::Test::Cluster->new('client_sizes');
my $bindir = $node->config_data('--bindir');
plan skip_all => "the client is not installed in $bindir"
  unless -x "$bindir/migration_guard";

$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = '1MB'
});
$node->start;

my $schema = q{
CREATE TABLE "User" (id int PRIMARY KEY, email text);
CREATE TABLE "Project" (id int PRIMARY KEY, "ownerId" int, name text);
CREATE TABLE events (id int, at timestamptz, payload text) PARTITION BY RANGE (id);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (50000);
CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (50000) TO (100000);
};
$node->safe_psql('postgres', q{
CREATE ROLE mon LOGIN IN ROLE pg_monitor;
CREATE ROLE dev LOGIN;
CREATE DATABASE prod;
CREATE DATABASE ci;
});
for my $db ('prod', 'ci')
{
	$node->safe_psql($db, "CREATE EXTENSION migration_guard;\n$schema");
}
$node->safe_psql('prod', q{
INSERT INTO "User" SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 1000) g;
INSERT INTO "Project" SELECT g, g % 1000 + 1, md5(g::text) FROM generate_series(1, 60000) g;
INSERT INTO events SELECT g, now(), md5(g::text) FROM generate_series(0, 99999) g;
ANALYZE;
});
# the applications read them: tables no session has used are let through
for my $db ('prod', 'ci')
{
	$node->safe_psql($db, 'SELECT count(*) FROM "User", "Project", events WHERE false');
}

# a migration directory, plain files, one transaction each
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/migrations";
open(my $fh, '>', "$dir/migrations/001_project_name.sql") or die;
print $fh qq{-- the owner's projects, by name
CREATE INDEX "Project_name_idx" ON "Project" (name);
ALTER TABLE "User" ADD COLUMN "inviteCode" uuid DEFAULT gen_random_uuid();
};
close $fh;
open($fh, '>', "$dir/migrations/002_events.sql") or die;
print $fh qq{CREATE INDEX events_at_idx ON events (at);
ALTER TABLE "Project" ADD CONSTRAINT "Project_ownerId_fkey"
  FOREIGN KEY ("ownerId") REFERENCES "User" (id);
};
close $fh;

sub client
{
	my ($db, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ "$bindir/migration_guard", 'check', '-h', $node->host,
		'-p', $node->port, '-d', $db, @args ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# what matters of a finding, to compare two runs
sub verdicts
{
	my ($json) = @_;
	return [ map { join(' ', $_->{file} =~ s{.*/}{}r, $_->{line}, $_->{column},
		$_->{severity}, $_->{rule} // '-', $_->{relation} // '-',
		$_->{table_bytes} // '-', $_->{est_rows} // '-') } @{ decode_json($json) } ];
}

my ($rc, $out, $err) = client('prod', '--format', 'json', "$dir/migrations");
is($rc, 1, 'on the large database: something would be refused (exit 1)');
my $on_prod = verdicts($out);
is_deeply([ map { (split / /)[3] . ' ' . (split / /)[4] } @$on_prod ],
	[ 'block create_index', 'block create_index', 'block add_foreign_key' ],
	'on the large database: three statements are refused (not the rewrite of the small "User")')
  or diag(join("\n", @$on_prod));

($rc, $out, $err) = client('ci', '--format', 'json', "$dir/migrations");
is($rc, 0, 'on the empty CI database, by its own sizes: nothing refused (exit 0)');
is_deeply(decode_json($out), [], 'on the empty CI database: no finding');

# the sizes, exported by a pg_monitor role; PUBLIC may not
my $sizes = $node->safe_psql('prod', 'SELECT migration_guard.export_sizes()',
	extra_params => [ '-U', 'mon' ]);
my $parsed = decode_json($sizes);
is($parsed->{format}, 'migration_guard sizes 1', 'export_sizes() says its format');
my ($project) = grep { $_->{name} eq 'Project' } @{ $parsed->{relations} };
is($project->{bytes}, $node->safe_psql('prod',
	q{SELECT pg_relation_size('"Project"') + coalesce(pg_relation_size(reltoastrelid), 0)
	    FROM pg_class WHERE oid = '"Project"'::regclass}),
	'the bytes exported are the main forks of the table and its TOAST table');
my ($events) = grep { $_->{name} eq 'events' } @{ $parsed->{relations} };
is("$events->{partitions} $events->{rows}", '2 100000',
	'a partitioned table: its partitions summed');
my ($r, $o, $e) = $node->psql('prod', 'SELECT migration_guard.export_sizes()',
	extra_params => [ '-U', 'dev' ]);
like($e, qr/permission denied for function export_sizes/, 'an ordinary role may not export sizes');

my $file = "$dir/sizes.json";
open($fh, '>', $file) or die;
print $fh $sizes;
close $fh;
($rc, $out, $err) = client('ci', '--format', 'json', '--sizes', $file, "$dir/migrations");
is($rc, 1, 'on the CI database with the sizes file: exit 1, as on the large one');
is_deeply(verdicts($out), $on_prod,
	'with the sizes file, the CI database gives the large one\'s verdicts, sizes and rows');

my $prod_conninfo = 'host=' . $node->host . ' port=' . $node->port . ' dbname=prod user=mon';
($rc, $out, $err) = client('ci', '--format', 'json', '--sizes-from', $prod_conninfo,
	"$dir/migrations");
is_deeply(verdicts($out), $on_prod, '--sizes-from reads them from the large database itself');
($rc, $out, $err) = client('ci', '--sizes', $file, "$dir/migrations");
like($out, qr/^judged with the sizes of database prod exported at /m,
	'the text report says whose sizes judged it');

# check() in SQL: the same rows; a relation the sizes do not name is
# measured here
$node->safe_psql('ci', q{
CREATE TABLE ci_only (id int, v text);
INSERT INTO ci_only SELECT g, md5(g::text) FROM generate_series(1, 40000) g;
SELECT count(*) FROM ci_only;});
my $script = q{CREATE INDEX ON "Project" (name); CREATE INDEX ON ci_only (v); CREATE INDEX ON "User" (email)};
my $q = "SELECT string_agg(coalesce(rule, 'ok') || ' ' || verdict || ' ' || est_rows, ', ' ORDER BY statement)
           FROM migration_guard.check(\$\$$script\$\$, 'file', \$s\$$sizes\$s\$)";
is($node->safe_psql('ci', $q),
	'create_index block 60000, create_index block 40000, ok ok 1000',
	'check() with sizes: named relations by those sizes, the others by their own');

# given sizes reach check() only: on the large database, a check() told
# the table is empty says ok, and the statement is refused all the same
my $fake = encode_json({ format => 'migration_guard sizes 1', relations => [
	{ schema => 'public', name => 'Project', bytes => 0, rows => 0 } ] });
is($node->safe_psql('prod', "SELECT verdict FROM migration_guard.check(
	'CREATE INDEX ON \"Project\" (name)', 'file', '$fake')"),
	'ok', 'check() judges by the sizes it is given');
($r, $o, $e) = $node->psql('prod', 'CREATE INDEX ON "Project" (name)');
like($e, qr/CREATE INDEX would block writes to table "Project"/,
	'the guard never uses them: the statement is refused on its real size');

# bad sizes: an error naming what is expected, exit 2
open($fh, '>', "$dir/bad.json") or die;
print $fh '{"relations": [{"schema": "public", "name": "Project", "bytes": "big"}]}';
close $fh;
($rc, $out, $err) = client('ci', '--sizes', "$dir/bad.json", "$dir/migrations");
is($rc, 2, 'bad sizes: exit 2');
like($err, qr/invalid sizes for migration_guard.check\(\)/, 'bad sizes: the server says so');
$fake = '{"format": "migration_guard sizes 1", "relations": [{"schema": "public", "name": "Project", "bytes": -1, "rows": 0}]}';
($r, $o, $e) = $node->psql('ci', "SELECT * FROM migration_guard.check('SELECT 1', 'file', '$fake')");
like($e, qr/DETAIL:  Each element of "relations" needs/, 'a negative size is refused with the reason');
($rc, $out, $err) = client('ci', '--sizes', "$dir/none.json", "$dir/migrations");
is($rc, 2, 'a sizes file that is not there: exit 2');

# the client prints the server's message, DETAIL and HINT, never the
# script it built nor the query that read the sizes
($rc, $out, $err) = client('ci', '--sizes', "$dir/bad.json", "$dir/migrations");
like($err, qr/^migration_guard: error: could not check the migrations: invalid sizes for migration_guard\.check\(\)\n.*detail: They must be an object.*\n.*hint: Pass what migration_guard\.export_sizes\(\) returns\.$/m,
	'bad sizes: the primary message, its DETAIL and HINT')
  or diag($err);
unlike($err, qr/QUERY|CONTEXT|CREATE INDEX|jsonb/,
	'bad sizes: neither the script nor the internal query is printed');

# every number within its type and not negative, else the same error (not
# "bigint out of range" from inside the query that reads them)
for my $bad (
	[ 'bytes 1e30', '"bytes": 1e30, "rows": 0' ],
	[ 'rows 1e19', '"bytes": 0, "rows": 1e19' ],
	[ 'negative toast_bytes', '"bytes": 0, "rows": 0, "toast_bytes": -1' ],
	[ 'toast_bytes 1e30', '"bytes": 0, "rows": 0, "toast_bytes": 1e30' ],
	[ 'negative partitions', '"bytes": 0, "rows": 0, "partitions": -1' ],
	[ 'partitions over integer', '"bytes": 0, "rows": 0, "partitions": 3000000000' ],
	[ 'rows a string', '"bytes": 0, "rows": "5"' ])
{
	my ($what, $fields) = @$bad;
	$fake = qq({"format": "migration_guard sizes 1", "relations": [{"schema": "public", "name": "Project", $fields}]});
	($r, $o, $e) = $node->psql('ci', "SELECT * FROM migration_guard.check('SELECT 1', 'file', '$fake')");
	like($e, qr/ERROR:  invalid sizes for migration_guard.check\(\)\nDETAIL:  Each element of "relations" needs/,
		"$what: invalid sizes, with the reason");
	unlike($e, qr/out of range|CONTEXT/, "$what: no error from inside the query");
}
$fake = '{"format": "migration_guard sizes 1", "relations": [{"schema": "public", "name": "Project", "bytes": 9223372036854775807, "rows": 1.5, "toast_bytes": 0, "partitions": 2147483647}]}';
($r, $o, $e) = $node->psql('ci', "SELECT verdict FROM migration_guard.check('SELECT 1', 'file', '$fake')");
is("$r $o", '0 ok', 'the largest numbers of their types are valid sizes') or diag($e);

open($fh, '>', "$dir/huge.json") or die;
print $fh '{"format": "migration_guard sizes 1", "relations": [{"schema": "public", "name": "Project", "bytes": 1e30, "rows": 0}]}';
close $fh;
($rc, $out, $err) = client('ci', '--sizes', "$dir/huge.json", "$dir/migrations");
is($rc, 2, 'bytes 1e30 through the client: exit 2');
like($err, qr/invalid sizes for migration_guard\.check\(\)/, 'bytes 1e30 through the client: invalid sizes');

# the queries that read the sizes call pg_catalog's functions, whatever the
# search_path
($r, $o, $e) = $node->psql('ci', q{
CREATE SCHEMA shadow;
CREATE FUNCTION shadow.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$SELECT 'number'$$;
SET search_path = shadow, pg_catalog, public;
SELECT * FROM migration_guard.check('SELECT 1', 'file',
  '{"format": "migration_guard sizes 1", "relations": [{"schema": "public", "name": "Project", "bytes": "big", "rows": 0}]}');});
like($e, qr/invalid sizes for migration_guard.check\(\)/,
	'a jsonb_typeof() earlier in the search_path is not called');

# --sizes-from: a database without the extension, named in quotes, the
# server's message without the query
($rc, $out, $err) = client('ci', '--sizes-from',
	'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres', "$dir/migrations");
is($rc, 2, '--sizes-from a database without the extension: exit 2');
like($err, qr/^migration_guard: error: could not read the sizes of database "postgres": schema "migration_guard" does not exist$/m,
	'--sizes-from a database without the extension: the database in quotes, the server\'s message')
  or diag($err);
unlike($err, qr/LINE 1|SELECT/, '--sizes-from a database without the extension: not the query');

$node->stop;
done_testing();
