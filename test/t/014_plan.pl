# migration_guard.plan(): every plan is proven by running it.
#
# Each scenario of test/plan/scenarios/ is a naive migration script, the kind
# the guard refuses or warns about. For each, in databases copied from the
# fixture (test/plan/fixture.sql):
#   1. the guard refuses (MG001) or warns about the script as written;
#   2. "naive": the script runs with every rule allowed;
#   3. "planned": the plan has a step for every statement of the script, a
#      note on none (but the @unplannable ones), outside_transaction set on
#      exactly the statements that need it; each step runs with the guard
#      enforcing, as the plan says (one query string; the outside-transaction
#      steps alone), without an ERROR or a WARNING, and its verify query is
#      then true;
#   4. both end with the same schema of "public" (columns compared by name,
#      not by position) and
#   5. the same data (an md5 per table of its rows in primary key order; the
#      columns filled by volatile functions by their count of non-NULL and
#      distinct values);
#   6. "undo": each step in turn is run (its verify false before), undone by
#      its undo SQL (which must not fail; a warning of the guard is only
#      noted), which must give back the schema as it was before the step,
#      and run again. An undo is SQL or a sentence that begins with
#      "irreversible: " or "nothing to undo: " (NULL for a statement the guard
#      could not plan, whose note says why).
#
# Every scenario's plan and timing are printed as notes (prove -v).
# PLAN_SCENARIOS=04,19 runs only those scenarios.
#
# A scenario's header says:
#   -- @rules: rule, ...                      the rules the guard names for it
# and may say:
#   -- @nondeterministic: table.column, ...   compared by counts only
#   -- @deploy_before: yes                    some step names a deploy to make first
#   -- @unplannable: N, ...                   statements plan() cannot make safe:
#                                             their step has a note and the original
#                                             statement, run here with the rules allowed
use strict;
use warnings;
use File::Basename qw(basename dirname);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $dir = dirname(__FILE__) . '/../plan';
my @scenarios = sort glob("$dir/scenarios/*.sql");
if (my $only = $ENV{PLAN_SCENARIOS})
{
	my %want = map { $_ => 1 } split /,/, $only;
	@scenarios = grep { basename($_) =~ /^(\d+)_/ && $want{$1} } @scenarios;
}

my $node = PostgreSQL::Test::Cluster->new('plan');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = '128kB'
autovacuum = off
timezone = 'UTC'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE fixture');
$node->safe_psql('fixture', slurp_file("$dir/fixture.sql"));
$node->safe_psql('fixture', "SET migration_guard.mode = off;\nVACUUM ANALYZE;");

# psql with a query string (-c) or a file (-f) and its options: (rc, stdout,
# stderr); for the naive script only
sub psql_run
{
	my ($db, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db,
		  '-v', 'ON_ERROR_STOP=1', @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	chomp $out;
	return ($rc, $out, $err);
}

# One long-lived psql for the whole test, connected in turn (\c) to the
# database in use: a psql launch costs ~90 ms and a \c ~40 ms (a new backend
# either way), and a scenario sends a few hundred commands. PostgreSQL 15's
# TAP modules have BackgroundPsql only in later minor releases (backported),
# so here is a small one. psql goes on after an error (no ON_ERROR_STOP):
# whether a command failed is read from its stderr, where psql prints the
# server's messages at the start of a line (after "psql:<stdin>:N: " for
# some).
my $failure = qr/^(?:psql:\S*: )?(?:ERROR|FATAL|PANIC):/m;
my $warning = qr/^(?:psql:\S*: )?WARNING:/m;
my $marks = 0;

sub session_start
{
	my ($db) = @_;
	my $s = { db => $db, timer => IPC::Run::timer($PostgreSQL::Test::Utils::timeout_default) };
	session_spawn($s);
	return $s;
}

sub session_spawn
{
	my ($s) = @_;
	@$s{qw(in out err)} = ('', '', '');
	$s->{h} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=0',
		  '-h', $node->host, '-p', $node->port, '-d', $s->{db} ],
		'<', \$s->{in}, '>', \$s->{out}, '2>', \$s->{err}, $s->{timer});
}

sub session_close
{
	my ($s) = @_;
	return unless $s->{h};
	$s->{in} .= "\\q\n";
	$s->{timer}->start($PostgreSQL::Test::Utils::timeout_default);
	eval { $s->{h}->finish; 1 } or $s->{h}->kill_kill;
	$s->{h} = undef;
}

# lines of psql input: (failed, stdout, stderr). A mark echoed to both
# streams after them ends their output.
sub session_send
{
	my ($s, $input) = @_;
	# a psql that ended (its connection lost) or hung is replaced
	session_spawn($s) unless $s->{h};
	my $mark = 'mg_mark_' . ++$marks;
	@$s{qw(out err)} = ('', '');
	$s->{in} .= "$input\n\\echo $mark\n\\warn $mark\n";
	$s->{timer}->start($PostgreSQL::Test::Utils::timeout_default);
	my $marked = sub { $s->{out} =~ /^\Q$mark\E\n/m && $s->{err} =~ /^\Q$mark\E\n/m };
	# pump() dies once psql has ended
	eval { $s->{h}->pump until $marked->() || $s->{timer}->is_expired; };
	my ($out, $err) = @$s{qw(out err)};
	if (!$marked->())
	{
		eval { $s->{h}->kill_kill };
		$s->{h} = undef;
		return (1, $out, $err . "\n(psql on $s->{db} ended or timed out)\n");
	}
	$out =~ s/^\Q$mark\E\n//m;
	$err =~ s/^\Q$mark\E\n//m;
	chomp $out;
	return ($err =~ $failure ? 1 : 0, $out, $err);
}

# the session connected to $db (a new connection)
sub session_connect
{
	my ($s, $db) = @_;
	return if $s->{db} eq $db;
	$s->{db} = $db;
	my ($failed, undef, $err) = session_send($s, "\\c $db");
	die "cannot connect to $db: $err" if $failed;
}

# $sql sent as one query string, as psql -c sends it: \gexec sends each value
# of its query's result as one query string. So the statements of $sql run
# as one transaction (the server's implicit one), and a statement that cannot
# run in a transaction block (CONCURRENTLY, CALL backfill) runs alone; in a
# dollar quote, psql neither splits $sql at its semicolons nor reads its
# backslashes or :variables.
sub session_exec
{
	my ($s, $sql) = @_;
	my $tag = 'mg_sql';
	$tag .= '_' while index($sql, $tag) >= 0;
	return session_send($s, "SELECT \$$tag\$$sql\$$tag\$ \\gexec");
}

# one query, its result unaligned without a header; dies on an error
sub query
{
	my ($s, $sql) = @_;
	my ($failed, $out, $err) = session_exec($s, $sql);
	die "query failed in $s->{db}: $err\n$sql" if $failed;
	return $out;
}

# a step or undo, as plan() prescribes it: one query string; $allowed: with
# every rule allowed (for steps plan() could not make safe). Then the session
# is as a new connection again: DISCARD ALL resets its settings (SET
# migration_guard.allow too), and fails in a transaction block, which the
# SQL left open and psql -c's disconnect rolled back.
sub run_step
{
	my ($s, $sql, $allowed) = @_;
	my ($failed, $err) = (0, '');
	($failed, undef, $err) = session_send($s, "SET migration_guard.allow = 'all';") if $allowed;
	my ($sql_failed, $out, $sql_err) = session_exec($s, $sql);
	my ($in_transaction, undef, $discard_err) = session_send($s, 'DISCARD ALL;');
	if ($in_transaction)
	{
		$sql_err .= "(it left a transaction open: rolled back)\n"
		  if $discard_err =~ /transaction block|transaction is aborted/;
		session_send($s, 'ROLLBACK;');
		my ($still, undef, $e) = session_send($s, 'DISCARD ALL;');
		die "cannot reset the session on $s->{db}: $e" if $still;
	}
	return ($failed || $sql_failed, $out, $err . $sql_err);
}

my $psql = session_start('postgres');

# (from the database the session is on, which is never the template)
sub new_db
{
	my ($name) = @_;
	query($psql, qq{DROP DATABASE IF EXISTS "$name"});
	query($psql, qq{CREATE DATABASE "$name" TEMPLATE fixture});
}

# The schema of "public" as one text: relations, columns by table and name,
# constraints, indexes, triggers, functions, views, partitions.
my $schema_sql = q{
WITH rel AS (
  SELECT c.* , c.oid AS reloid
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public'),
lines AS (
  SELECT format('relation %s kind=%s persistence=%s options=%s',
                r.relname, r.relkind, r.relpersistence, r.reloptions) AS line
    FROM rel r
  UNION ALL
  SELECT format('column %s.%s %s default=%s notnull=%s identity=%s generated=%s',
                r.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                pg_get_expr(d.adbin, d.adrelid), a.attnotnull, a.attidentity, a.attgenerated)
    FROM rel r
    JOIN pg_attribute a ON a.attrelid = r.reloid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
  UNION ALL
  SELECT format('constraint %s.%s type=%s validated=%s %s',
                r.relname, co.conname, co.contype, co.convalidated, pg_get_constraintdef(co.oid))
    FROM rel r JOIN pg_constraint co ON co.conrelid = r.reloid
  UNION ALL
  SELECT format('index %s.%s valid=%s %s',
                r.relname, i.relname, x.indisvalid, pg_get_indexdef(x.indexrelid))
    FROM rel r JOIN pg_index x ON x.indrelid = r.reloid JOIN pg_class i ON i.oid = x.indexrelid
  UNION ALL
  SELECT format('trigger %s.%s %s', r.relname, t.tgname, pg_get_triggerdef(t.oid))
    FROM rel r JOIN pg_trigger t ON t.tgrelid = r.reloid AND NOT t.tgisinternal
  UNION ALL
  SELECT format('function %s %s', p.oid::regprocedure, pg_get_functiondef(p.oid))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT format('view %s %s', r.relname, pg_get_viewdef(r.reloid))
    FROM rel r WHERE r.relkind IN ('v', 'm')
  UNION ALL
  SELECT format('inherits %s from %s %s', r.relname, p.relname, pg_get_expr(r.relpartbound, r.reloid))
    FROM rel r JOIN pg_inherits i ON i.inhrelid = r.reloid JOIN pg_class p ON p.oid = i.inhparent)
SELECT string_agg(line, E'\n' ORDER BY line COLLATE "C") FROM lines};

# (of the database of a session)
sub schema_text { return query($_[0], $schema_sql); }

# The data of every table and materialized view of "public" (a partition's
# rows with its partitioned table's): per relation its row count and an md5
# of its rows (columns by name) in primary key order; the columns in %$nondet
# (table.column) only by their counts of non-NULL and distinct values.
sub data_text
{
	my ($s, $nondet) = @_;
	my @parts;
	for my $rel (split /\n/, query($s, q{
SELECT concat_ws('|', c.relname, quote_ident(c.relname),
       coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                   FROM pg_index i
                  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                  WHERE i.indrelid = c.oid AND i.indisprimary), ''),
       (SELECT string_agg(a.attname || '|' || quote_ident(a.attname), '|' ORDER BY a.attname COLLATE "C")
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
 ORDER BY c.relname COLLATE "C"}))
	{
		my ($name, $qname, $pk, %cols) = split /\|/, $rel;
		my (@det, @counts);
		for my $col (sort keys %cols)
		{
			my $q = $cols{$col};
			if ($nondet->{"$name.$col"})
			{
				push @counts, "' $col: ' || count($q) || ' non-null, ' || count(DISTINCT $q) || ' distinct'";
			}
			else
			{
				push @det, $q;
			}
		}
		my $row = 'ROW(' . (@det ? join(', ', @det) : '1') . ')::text';
		my $order = $pk ne '' ? $pk : "$row COLLATE \"C\"";
		my $extra = @counts ? ' || ' . join(' || ', @counts) : '';
		push @parts, qq{(SELECT '$name: ' || count(*) || ' rows, md5 ' ||
        coalesce(md5(string_agg($row, E'\\n' ORDER BY $order)), '-')$extra
   FROM public.$qname)};
	}
	return query($s, 'SELECT concat_ws(E\'\\n\', ' . join(",\n", @parts) . ')');
}

# is() for two canonical texts: on a difference, only the lines that differ
sub is_text
{
	my ($got, $expected, $name, $got_label, $expected_label) = @_;
	return pass($name) if $got eq $expected;
	fail($name);
	my %in_got = map { $_ => 1 } split /\n/, $got;
	my %in_expected = map { $_ => 1 } split /\n/, $expected;
	my @missing = grep { !$in_got{$_} } split /\n/, $expected;
	my @extra = grep { !$in_expected{$_} } split /\n/, $got;
	diag("only in $expected_label:" . (@missing ? join('', map { "\n  - $_" } @missing) : ' nothing')
		  . "\nonly in $got_label:" . (@extra ? join('', map { "\n  + $_" } @extra) : ' nothing'));
	return 0;
}

# a statement that cannot run in a transaction block
my $alone = qr/^\s*(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY
	|REINDEX\s.*\sCONCURRENTLY|CALL\s+migration_guard\.backfill\s*\(
	|ALTER\s+TABLE\s.*\sDETACH\s+PARTITION\s.*\sCONCURRENTLY)/xis;

# the header of a scenario
sub header
{
	my ($text, $key) = @_;
	return $text =~ /^--\s*\@$key:\s*(.*?)\s*$/m ? $1 : undef;
}

for my $file (@scenarios)
{
	my $name = basename($file, '.sql');
	my $naive = slurp_file($file);
	my %nondet = map { $_ => 1 } split /\s*,\s*/, (header($naive, 'nondeterministic') // '');
	my %unplannable = map { $_ => 1 } split /\s*,\s*/, (header($naive, 'unplannable') // '');
	my @rules = split /\s*,\s*/, (header($naive, 'rules') // '');
	my $wants_deploy = defined header($naive, 'deploy_before');
	(my $n = $name) =~ s/^(\d+)_.*/$1/;
	my $t0 = time;

	# 1. the guard refuses or warns; 2. the naive result
	my $naive_db = "naive_$n";
	new_db($naive_db);
	my ($rc, $out, $err) = psql_run($naive_db, '-1', '-q', '-v', 'VERBOSITY=verbose', '-f', $file);
	my $refused = $rc != 0 && $err =~ /ERROR:  MG001:/;
	my $warned = $rc == 0 && $err =~ /WARNING:  /;
	my @missing = grep { $err !~ /migration_guard\.allow = '$_'/ } @rules;
	ok(($refused || $warned) && !@missing,
		"$name: the guard " . ($refused ? 'refuses' : $warned ? 'warns about' : 'neither refuses nor warns about')
		  . ' the naive script (' . join(', ', @rules) . ')')
	  or diag("rc $rc\n$err");
	if (!$warned)
	{
		# refused: nothing of it ran. Warned: it ran and committed, which is
		# the naive result already.
		($rc, $out, $err) = psql_run($naive_db, '-1', '-q',
			'-c', "SET migration_guard.allow = 'all'", '-f', $file);
		is($rc, 0, "$name: the naive script runs with every rule allowed") or diag($err);
	}

	# 3. the plan, run step by step with the guard enforcing
	my $planned_db = "planned_$n";
	new_db($planned_db);
	session_connect($psql, $planned_db);
	my $failed;
	($failed, $out, $err) = session_exec($psql, qq{
SELECT coalesce(json_agg(p ORDER BY p.step), '[]')
  FROM migration_guard.plan(\$mg_naive_script\$$naive\$mg_naive_script\$) p});
	if ($failed)
	{
		fail("$name: plan() returns the plan");
		diag($err);
		session_connect($psql, 'postgres');
		query($psql, qq{DROP DATABASE "$_"}) for ($naive_db, $planned_db);
		next;
	}
	my @steps = @{ decode_json($out) };
	ok(@steps > 0, "$name: plan() returns " . scalar(@steps) . ' steps');
	note("$name: step $_->{step} ($_->{phase}, statement $_->{statement}"
		  . ($_->{outside_transaction} ? ', outside a transaction' : '') . "):\n$_->{sql}"
		  . (defined $_->{verify} ? "\n  verify: $_->{verify}" : '')
		  . "\n  undo: " . ($_->{undo} // 'NULL')
		  . (defined $_->{deploy_before} ? "\n  deploy before: $_->{deploy_before}" : '')
		  . (defined $_->{note} ? "\n  note: $_->{note}" : ''))
	  for @steps;
	is(join(',', map { $_->{step} } @steps), join(',', 1 .. scalar @steps),
		"$name: steps numbered 1.." . scalar @steps);
	my @bad;
	for my $s (@steps)
	{
		my @why;
		push @why, 'phase ' . ($s->{phase} // 'NULL')
		  unless ($s->{phase} // '') =~ /^(expand|backfill|constrain|switch|contract)$/;
		push @why, 'statement ' . ($s->{statement} // 'NULL')
		  unless defined $s->{statement} && $s->{statement} >= 1;
		push @why, 'no SQL' unless defined $s->{sql} && $s->{sql} =~ /\S/;
		# a statement the guard could not plan has no undo it knows of
		push @why, 'undo NULL'
		  unless (defined $s->{undo} && $s->{undo} =~ /\S/) || defined $s->{note};
		push @why, 'lock_hold ' . $s->{lock_hold}
		  if defined $s->{lock_hold} && $s->{lock_hold} !~ /^(instant|proportional|per batch)$/;
		# what cannot run in a transaction block is sent alone, and only that
		my $sql = $s->{sql} // '';
		if ($s->{outside_transaction})
		{
			push @why, 'outside_transaction but not one statement that needs it'
			  unless $sql =~ $alone && ($sql =~ s/;\s*\z//r) !~ /;\s*\S/;
		}
		else
		{
			push @why, 'sent as one transaction but needs to run outside one'
			  if grep { $_ =~ $alone } split /;/, $sql;
		}
		push @why, 'its undo has CONCURRENTLY among other statements'
		  if ($s->{undo} // '') =~ /CONCURRENTLY/i && ($s->{undo} =~ s/;\s*\z//r) =~ /;\s*\S/;
		push @bad, "step $s->{step}: " . join(', ', @why) if @why;
	}
	ok(!@bad, "$name: every step has a known phase, a statement number, SQL, an undo, and outside_transaction right")
	  or diag(join("\n", @bad));
	# every statement of the script (as the dry run numbers them) has a step
	my @statements = split /,/, query($psql, qq{
SELECT string_agg(DISTINCT statement::text, ',') FROM migration_guard.check(\$mg_naive_script\$$naive\$mg_naive_script\$)});
	my %planned_statements = map { $_->{statement} // 0 => 1 } @steps;
	my @unplanned = grep { !$planned_statements{$_} } @statements;
	ok(!@unplanned, "$name: each of the script's " . scalar(@statements) . ' statements has a step')
	  or diag('statements without a step: ' . join(', ', @unplanned));
	my @noted = sort { $a <=> $b } map { $_->{statement} } grep { defined $_->{note} } @steps;
	my %seen;
	@noted = grep { !$seen{$_}++ } @noted;
	is(join(',', @noted), join(',', sort { $a <=> $b } keys %unplannable),
		"$name: " . (%unplannable ? 'a note on the statements that cannot be planned, none on the others'
			: 'every statement planned (no note)'))
	  or diag(join("\n", map { "step $_->{step}: $_->{note}" } grep { defined $_->{note} } @steps));
	for my $s (grep { defined $_->{note} && $unplannable{$_->{statement}} } @steps)
	{
		ok(index($naive, $s->{sql} =~ s/;\s*$//r) >= 0,
			"$name: step $s->{step} (with a note) is the original statement unchanged")
		  or diag($s->{sql});
	}
	if ($wants_deploy)
	{
		ok((grep { defined $_->{deploy_before} } @steps),
			"$name: a step says which application deploy must come first");
	}

	for my $s (@steps)
	{
		my $label = "$name: step $s->{step} ($s->{phase}, statement $s->{statement})";
		my $allowed = defined $s->{note} && $unplannable{ $s->{statement} };
		($failed, $out, $err) = run_step($psql, $s->{sql}, $allowed);
		ok(!$failed && $err !~ $warning, "$label runs without an error or warning"
			  . ($allowed ? ' (rules allowed: it cannot be planned)' : ''))
		  or diag("sql: $s->{sql}\n$err");
		if (defined $s->{verify})
		{
			my ($vfailed, $vout, $verr) = session_exec($psql, $s->{verify});
			is(!$vfailed ? $vout : "error: $verr", 't', "$label: its verify is true")
			  or diag("verify: $s->{verify}");
		}
	}

	# 4. and 5. the same schema and data as the naive script's
	my ($planned_schema, $planned_data) = (schema_text($psql), data_text($psql, \%nondet));
	session_connect($psql, $naive_db);
	is_text($planned_schema, schema_text($psql),
		"$name: the plan ends with the naive script's schema", 'planned', 'naive');
	is_text($planned_data, data_text($psql, \%nondet),
		"$name: and with its data", 'planned', 'naive');

	my $t1 = time;

	# 6. every undo undoes its step
	my $undo_db = "undo_$n";
	new_db($undo_db);
	session_connect($psql, $undo_db);
	for my $s (@steps)
	{
		my $label = "$name: step $s->{step} ($s->{phase})";
		my $allowed = defined $s->{note} && $unplannable{ $s->{statement} };
		my $before = schema_text($psql);
		if (defined $s->{verify} && $s->{sql} !~ /^\s*REINDEX\b/i)
		{
			# true once the step has taken effect, so not before (but an
			# index that REINDEX rebuilds was valid before too)
			my ($vfailed, $vout, $verr) = session_exec($psql, $s->{verify});
			is(!$vfailed ? $vout : "error: $verr", 'f', "$label: its verify is false before it runs")
			  or diag("verify: $s->{verify}");
		}
		($failed, $out, $err) = run_step($psql, $s->{sql}, $allowed);
		if ($failed)
		{
			fail("$label runs before its undo");
			diag("sql: $s->{sql}\n$err");
			last;
		}
		my $undo = $s->{undo};
		if (!defined $undo || $undo =~ /^(irreversible|nothing to undo): /)
		{
			note("$label: undo: " . ($undo // 'NULL'));
			next;
		}
		($failed, $out, $err) = run_step($psql, $undo, $allowed);
		ok(!$failed, "$label: its undo runs without an error")
		  or diag("undo: $undo\n$err");
		note("$label: its undo warns:\n$err") if $err =~ $warning;
		is_text(schema_text($psql), $before, "$label: its undo gives back the schema before it",
			'after the undo', 'before the step')
		  or diag("undo: $undo");
		($failed, $out, $err) = run_step($psql, $s->{sql}, $allowed);
		if (!ok(!$failed, "$label runs again after its undo"))
		{
			diag("sql: $s->{sql}\n$err");
			last;
		}
	}

	note(sprintf('%s: %.1f s, of which %.1f s for the undos', $name, time - $t0, time - $t1));
}

session_close($psql);
$node->stop;
done_testing();
