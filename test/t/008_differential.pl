# The dry run is the server's twin: for each migration script, check() and
# the hook must agree statement by statement.  Each script is run twice on
# the same guarded fixture, in one transaction as migration tools run a
# file: once through migration_guard.check(), once for real, each statement
# in a savepoint of its own (a refused one does not end the run), with its
# verdict read back from migration_guard.audit_log.  Per statement the two
# must give the same verdict (ok, warned, blocked, overridden, or error when
# PostgreSQL raises one) and the same rules, up to the first statement that
# either side refuses or fails: in a one-transaction migration the server
# runs nothing after it.  Not compared: statements check() calls unknown
# (DO, CALL); queries, whose verdict is a WARNING and no audit row; a
# statement that the script's own COMMIT put outside a transaction (this
# run cannot commit).  Every script is rolled back.
#
# The scripts: the demo's migrations (on the demo's own schema), the files
# of test/differential/, pairs generated below (an object made, then
# altered), and every script the regression suites (sql/*.sql) hand to
# check(), on their own fixture (sql/setup.sql).
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;
use Encode qw(decode encode);

my $top = dirname(__FILE__) . '/../..';
my $node = PostgreSQL::Test::Cluster->new('differential');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.large_table_threshold = '1MB'
autovacuum = off
});
$node->start;

sub slurp_utf8 { return decode('UTF-8', slurp_file($_[0])); }

# The fixture: the demo's schema, and two tables of our own
$node->safe_psql('postgres', "SET migration_guard.mode = off;\n" . slurp_file("$top/demo/00_schema.sql"));
$node->safe_psql('postgres', q{
SET migration_guard.mode = off;
CREATE EXTENSION migration_guard;
CREATE TABLE big (id int PRIMARY KEY, val text, code varchar(10), n int, ref int);
INSERT INTO big SELECT g, md5(g::text), left(md5(g::text), 10), g, g % 100 + 1
  FROM generate_series(1, 30000) g;
CREATE TABLE small (id int PRIMARY KEY, val text);
INSERT INTO small SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE INDEX big_val_idx ON big (val);
ANALYZE;
});

# the real run: each statement in a savepoint, its audit rows read back
my $harness = q{
CREATE SCHEMA difftest;
CREATE FUNCTION difftest.run(stmts text[])
RETURNS TABLE (stmt int, verdict text, rules text) LANGUAGE plpgsql AS $$
DECLARE
  mark bigint;
  failed boolean;
  outside boolean;
BEGIN
  FOR i IN 1 .. coalesce(array_length(stmts, 1), 0) LOOP
    SELECT coalesce(max(id), 0) INTO mark FROM migration_guard.audit_log;
    failed := false;
    outside := false;
    BEGIN
      EXECUTE stmts[i];
    EXCEPTION WHEN OTHERS THEN
      failed := SQLSTATE <> 'MG001';
      outside := SQLSTATE = '25001';
    END;
    stmt := i;
    IF outside THEN
      verdict := 'outside'; rules := ''; RETURN NEXT;
    ELSIF failed THEN
      verdict := 'error'; rules := ''; RETURN NEXT;
    ELSE
      FOR verdict, rules IN
        SELECT a.verdict::text, array_to_string(ARRAY(SELECT unnest(a.rules) ORDER BY 1), ',')
          FROM migration_guard.audit_log a WHERE a.id > mark ORDER BY a.id
      LOOP
        RETURN NEXT;
      END LOOP;
    END IF;
  END LOOP;
END $$;
};
$node->safe_psql('postgres', $harness);

# the database the scripts run in
my $db = 'postgres';

# The dry run, one line per statement: number, command, line, column,
# verdict and rules as the audit would spell them
sub dry_run
{
	my ($script) = @_;
	my $out = $node->safe_psql($db, qq{
SELECT statement, min(command), min(line), min(col),
       CASE WHEN bool_or(verdict = 'error') THEN 'error'
            WHEN bool_or(verdict = 'unknown') THEN 'unknown'
            WHEN bool_or(verdict = 'block') THEN 'blocked'
            WHEN bool_or(verdict = 'warn') THEN 'warned'
            WHEN bool_or(rule IS NOT NULL) THEN 'overridden'
            ELSE 'ok' END,
       coalesce(string_agg(DISTINCT rule, ',' ORDER BY rule), '')
  FROM migration_guard.check(\$mg_script\$$script\$mg_script\$, 'file')
 GROUP BY statement ORDER BY statement});
	return map { [ split /\|/, $_, -1 ] } split /\n/, decode('UTF-8', $out);
}

# Each statement's text, cut where the next one starts (check() gives
# line and column of each start, in characters)
sub statements
{
	my ($script, @rows) = @_;
	my @lines = split /(?<=\n)/, $script;
	my @starts;
	for my $r (@rows)
	{
		my ($line, $col) = ($r->[2], $r->[3]);
		my $offset = 0;
		$offset += length($lines[$_]) for 0 .. $line - 2;
		push @starts, $offset + $col - 1;
	}
	push @starts, length($script);
	return map { substr($script, $starts[$_], $starts[$_ + 1] - $starts[$_]) } 0 .. $#rows;
}

sub real_run
{
	my (@stmts) = @_;
	my $array = join(', ', map { my $s = $_; $s =~ s/;\s*$//s; $s =~ s/'/''/g; "'$s'" } @stmts);
	my $out = $node->safe_psql($db, qq{
BEGIN;
SELECT stmt, verdict, rules FROM difftest.run(ARRAY[$array]::text[]);
ROLLBACK;});
	my %real;
	for (split /\n/, decode('UTF-8', $out))
	{
		my ($stmt, $verdict, $rules) = split /\|/, $_, -1;
		$real{$stmt} = [ $verdict, $rules ];
	}
	return %real;
}

my ($scripts, $statements, $compared) = (0, 0, 0);
sub compare
{
	my ($name, $script) = @_;
	my @dry = dry_run($script);
	# transaction control is the run's: the script is one transaction
	my @keep = grep { $dry[$_][1] !~ /^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)$/ } 0 .. $#dry;
	my @texts = statements($script, @dry);
	my %real = real_run(map { $texts[$_] } @keep);
	my @diffs;
	my $k = 0;
	for my $i (@keep)
	{
		$k++;
		my ($no, $cmd, $line, $col, $verdict, $rules) = @{ $dry[$i] };
		my ($rv, $rr) = @{ $real{$k} // [ 'ok', '' ] };
		$statements++;
		# what check() cannot see; the verdict on a query is a WARNING,
		# never an audit row; and a statement the script's own COMMIT put
		# outside a transaction, which this run cannot do (it rolls back)
		next if $verdict eq 'unknown' || $cmd =~ /^(SELECT|INSERT|UPDATE|DELETE|MERGE)$/ ||
		  ($rv eq 'outside' && $verdict ne 'error');
		$rv = 'error' if $rv eq 'outside';
		$compared++;
		push @diffs, "$name:$line:$col $cmd: check() says $verdict [$rules], the server $rv [$rr]"
		  if $verdict ne $rv || $rules ne $rr;
		last if $verdict =~ /^(blocked|error)$/ || $rv =~ /^(blocked|error)$/;
	}
	$scripts++;
	is(join("\n", @diffs), '', "$name: check() and the server agree");
}

# the demo's naive migration and its first phase, on the demo's schema (the
# later phases need the backfill's data)
for my $f ("$top/demo/10_naive_migration.sql", "$top/demo/20_expand.sql")
{
	compare(basename($f), slurp_utf8($f));
}

# the corpus
for my $f (sort glob("$top/test/differential/*.sql"))
{
	compare(basename($f), slurp_utf8($f));
}

# generated: a type made by the script, then a column converted to it
my %made = (
	enum => "CREATE TYPE made_t AS ENUM ('a', 'b');",
	plain_domain => 'CREATE DOMAIN made_t AS text;',
	checked_domain => 'CREATE DOMAIN made_t AS text CHECK (VALUE IS NOT NULL);',
	int_domain => 'CREATE DOMAIN made_t AS bigint;',
	composite => 'CREATE TYPE made_t AS (a int, b text);');
for my $kind (sort keys %made)
{
	for my $col (qw(val code n))
	{
		compare("type $kind, column $col",
			"$made{$kind}\nALTER TABLE big ALTER COLUMN $col TYPE made_t USING $col\::made_t;\n");
		compare("type $kind, column $col, no USING",
			"$made{$kind}\nALTER TABLE big ALTER COLUMN $col TYPE made_t;\n");
	}
}
# generated: a column added by the script, then converted
for my $from ('varchar(10)', 'text', 'int', 'numeric(10,2)')
{
	for my $to ('varchar(20)', 'text', 'bigint', 'numeric(12,2)')
	{
		compare("column $from to $to",
			"ALTER TABLE big ADD COLUMN added $from;\nALTER TABLE big ALTER COLUMN added TYPE $to;\n");
	}
}

# the scripts the regression suites hand to check() (every dollar-quoted
# one), on the suites' own fixture (sql/setup.sql) in a database of their
# own; objects a suite makes between its calls are unknown here, an error
# on both sides
$node->safe_psql('postgres', 'CREATE DATABASE regress');
$node->safe_psql('regress', "SET migration_guard.mode = off;\n" . slurp_file("$top/sql/setup.sql"));
$node->safe_psql('regress', $harness);
$db = 'regress';
my $major = int($node->safe_psql('postgres', 'SHOW server_version_num') / 10000);
for my $f (sort glob("$top/sql/*.sql"))
{
	# a suite of another major's syntax (engine_agreement_18.sql)
	next if basename($f) =~ /_(\d+)\.sql$/ && $1 != $major;
	my $suite = slurp_utf8($f);
	my $n = 0;
	while ($suite =~ /migration_guard\.check\(\s*\$(\w*)\$(.*?)\$\1\$/sg)
	{
		$n++;
		compare(basename($f) . " #$n", $2);
	}
}

note("$scripts scripts, $statements statements, $compared compared");
$node->stop;
done_testing();
