/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  Judge: the rulebook.  Effects of a statement, the size of each
 *	  relation and the session's settings become Findings, each with a
 *	  verdict and a message that teaches the safe way.
 *
 * judge_statement() is the one entry point shared by the ProcessUtility
 * hook and migration_guard.check(): inspect, measure, judge.  Whatever one
 * of them decides about a statement, the other decides too.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/rules.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "migration_guard.h"

typedef struct RuleDef
{
	const char *name;			/* stable id, used in migration_guard.allow */
	bool		size_dependent; /* fires only above the threshold */
	Verdict		verdict;		/* default verdict */
	const char *message;		/* primary message, see fill_message() */
} RuleDef;

/* In RuleId order */
static const RuleDef rule_defs[NUM_RULES] = {
	{"create_index", true, VERDICT_BLOCK,
	"CREATE INDEX would block writes to table {table} while the index is built"},
	{"drop_index", true, VERDICT_WARN,
	"DROP INDEX {subject} blocks all access to table {table} while it waits for its lock"},
	{"reindex", true, VERDICT_BLOCK,
	"REINDEX would block reads and writes of table {table} for the whole rebuild"},
	{"add_column_rewrite", true, VERDICT_BLOCK,
	"adding column {subject} would rewrite table {table}"},
	{"alter_column_type", true, VERDICT_BLOCK,
	"changing the type of column {subject} would rewrite table {table}"},
	{"set_not_null", true, VERDICT_BLOCK,
	"SET NOT NULL on column {subject} would scan table {table} under ACCESS EXCLUSIVE lock"},
	{"add_check", true, VERDICT_BLOCK,
	"adding a CHECK constraint would scan table {table} under ACCESS EXCLUSIVE lock"},
	{"add_foreign_key", true, VERDICT_BLOCK,
	"adding a foreign key would scan table {table} while blocking writes"},
	{"add_unique_constraint", true, VERDICT_BLOCK,
	"adding a unique constraint would build an index on table {table} under ACCESS EXCLUSIVE lock"},
	{"rewrite_table", true, VERDICT_BLOCK,
	"{action} would rewrite table {table} under ACCESS EXCLUSIVE lock"},
	{"attach_partition", true, VERDICT_BLOCK,
	"ATTACH PARTITION would scan table {table} under ACCESS EXCLUSIVE lock"},
	{"detach_partition", true, VERDICT_WARN,
	"DETACH PARTITION blocks all access to partitioned table {table} while it waits for its lock"},
	{"refresh_matview", true, VERDICT_BLOCK,
	"REFRESH MATERIALIZED VIEW would block reads of {table} for the whole refresh"},
	{"drop_column", false, VERDICT_WARN,
	"dropping column {subject} of table {table} breaks code that still uses it"},
	{"rename_column", false, VERDICT_WARN,
	"renaming column {subject} of table {table} breaks code that still uses the old name"},
	{"rename_table", false, VERDICT_WARN,
	"renaming table {table} breaks code that still uses the old name"},
	{"drop_table", false, VERDICT_WARN,
	"dropping table {table} deletes its data and breaks code that still uses it"},
	{"truncate", false, VERDICT_WARN,
	"TRUNCATE deletes every row of table {table}"},
	{"lock_queue", false, VERDICT_BLOCK,
	"{action} would wait for a lock on table {table} behind a long-running transaction"},
	{"exclusive_lock_held", true, VERDICT_WARN,
	"{action} runs while this transaction holds an ACCESS EXCLUSIVE lock on table {table}"},
};

/* Parsed migration_guard.allow: one flag per rule, set by the assign hook */
static bool *allowed_rules = NULL;

const char *
rule_name(int rule)
{
	return (rule >= 0 && rule < NUM_RULES) ? rule_defs[rule].name : NULL;
}

int
rule_lookup(const char *name)
{
	int			i;

	for (i = 0; i < NUM_RULES; i++)
		if (strcmp(rule_defs[i].name, name) == 0)
			return i;
	return -1;
}

/*---- migration_guard.allow ----*/

bool
allow_check_hook(char **newval, void **extra, GucSource source)
{
	char	   *rawstring = pstrdup(*newval);
	List	   *elems;
	ListCell   *lc;
	bool	   *flags;

	if (!SplitIdentifierString(rawstring, ',', &elems))
	{
		GUC_check_errdetail("List syntax is invalid.");
		pfree(rawstring);
		list_free(elems);
		return false;
	}

	flags = (bool *) mg_guc_malloc(NUM_RULES * sizeof(bool));
	if (flags == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		pfree(rawstring);
		list_free(elems);
		return false;
	}
	memset(flags, 0, NUM_RULES * sizeof(bool));

	foreach(lc, elems)
	{
		char	   *name = (char *) lfirst(lc);
		int			rule;

		if (strcmp(name, "all") == 0)
		{
			memset(flags, 1, NUM_RULES * sizeof(bool));
			continue;
		}
		rule = rule_lookup(name);
		if (rule < 0)
		{
			StringInfoData ids;
			int			i;

			initStringInfo(&ids);
			for (i = 0; i < NUM_RULES; i++)
				appendStringInfo(&ids, "%s%s", i ? ", " : "", rule_defs[i].name);
			GUC_check_errdetail("\"%s\" is not a migration_guard rule id.", name);
			GUC_check_errhint("Valid rule ids are: all, %s.", ids.data);
			mg_guc_free(flags);
			pfree(rawstring);
			list_free(elems);
			return false;
		}
		flags[rule] = true;
	}
	pfree(rawstring);
	list_free(elems);
	*extra = flags;
	return true;
}

void
allow_assign_hook(const char *newval, void *extra)
{
	allowed_rules = (bool *) extra;
}

/*---- Words for locks ----*/

/* As pg_locks.mode spells it */
const char *
lock_mode_name(LOCKMODE mode)
{
	return GetLockmodeName(DEFAULT_LOCKMETHOD, mode);
}

/* As the documentation and the LOCK command spell it */
const char *
lock_mode_words(LOCKMODE mode)
{
	static const char *const names[] = {
		"no", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE",
		"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
		"EXCLUSIVE", "ACCESS EXCLUSIVE"
	};

	return (mode >= 0 && mode <= AccessExclusiveLock) ? names[mode] : "unknown";
}

/*
 * What a lock on a relation of that kind ("table", "view", ...) blocks, in
 * the words of someone who runs the application
 */
static const char *
lock_blocks(LOCKMODE mode, const char *noun)
{
	/* nextval() and setval() take ROW EXCLUSIVE on the sequence */
	if (strcmp(noun, "sequence") == 0 && mode >= ShareLock &&
		mode < AccessExclusiveLock)
		return "blocks nextval() and setval(), and so every INSERT that takes a value from the sequence; reading it still works";
	switch (mode)
	{
		case AccessExclusiveLock:
			return psprintf("blocks every read and write of the %s, even a plain SELECT", noun);
		case ExclusiveLock:
			return "blocks INSERT, UPDATE and DELETE and SELECT ... FOR UPDATE; plain SELECTs still run";
		case ShareRowExclusiveLock:
		case ShareLock:
			return "blocks INSERT, UPDATE and DELETE; plain SELECTs still run";
		case ShareUpdateExclusiveLock:
			return "blocks VACUUM and other schema changes; reads and writes still run";
		case RowExclusiveLock:
			return "blocks CREATE INDEX and stronger locks; reads and writes still run";
		default:
			return "blocks only ACCESS EXCLUSIVE requests";
	}
}

/*---- Judging ----*/

/*
 * Expand a rule's message template: {subject} is the column, index or
 * constraint, quoted; {action} the same, bare (for rules whose subject is
 * a command, like VACUUM FULL); {table} the relation.
 */
static char *
fill_message(const char *tmpl, const char *subject, const char *table,
			 const char *action, const char *noun)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = tmpl; *p; p++)
	{
		if (*p != '{' && strncmp(p, "table {table}", 13) != 0)
		{
			size_t		run = 1;

			while (p[run] && p[run] != '{' &&
				   strncmp(p + run, "table {table}", 13) != 0)
				run++;
			appendBinaryStringInfo(&buf, p, run);
			p += run - 1;
		}
		else if (strncmp(p, "{subject}", 9) == 0)
		{
			appendStringInfoString(&buf, subject);
			p += 8;
		}
		else if (strncmp(p, "table {table}", 13) == 0)
		{
			/* a view, a sequence or an index is named as what it is */
			appendStringInfo(&buf, "%s %s", noun, table);
			p += 12;
		}
		else if (strncmp(p, "{table}", 7) == 0)
		{
			appendStringInfoString(&buf, table);
			p += 6;
		}
		else if (strncmp(p, "{action}", 8) == 0)
		{
			appendStringInfoString(&buf, action);
			p += 7;
		}
		else
			appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

static char *
size_phrase(const RelSize *size)
{
	char	   *parts = size->partitions > 0 ?
	psprintf(", summed over %d partitions", size->partitions) : pstrdup("");

	const char *noun = size->rows == 1 ? "row" : "rows";

	if (size->toast_left_out && size->toast_bytes > 0)
		return psprintf("%s with about " INT64_FORMAT " %s%s (and %s of TOAST data, which this scan does not read)",
						format_bytes(size->bytes), size->rows, noun, parts,
						format_bytes(size->toast_bytes));
	return psprintf("%s with about " INT64_FORMAT " %s%s",
					format_bytes(size->bytes), size->rows, noun, parts);
}

/*
 * What the work of a hazard reads: a rewrite copies the TOAST data too, an
 * index build and most CHECKs read the values; SET NOT NULL reads only
 * whether each column is null, a foreign key's validation only its key
 * columns, short values that are never stored out of line, and an index or
 * a CHECK on columns that cannot be, or a CHECK of NULL-ness alone
 * (inspect.c sets heap_only).  A table whose
 * bulk is TOAST is small to them (an FK on a 40 MB table of 3,000 rows was
 * refused, and the validation read a few hundred kB).
 */
static RelSize
work_size(const Hazard *hz, RelSize size)
{
	if (hz->heap_only ||
		hz->rule == RULE_SET_NOT_NULL || hz->rule == RULE_ADD_FOREIGN_KEY)
	{
		size.bytes -= size.toast_bytes;
		size.toast_left_out = true;
	}
	return size;
}

/*
 * A size rule that refuses work under a lock that blocks reads or writes is
 * judged by time too, when migration_guard.max_lock_hold is set: the work
 * must also be predicted to hold that lock longer.
 */
static bool
judged_by_time(const Hazard *hz, const HoldTime *hold)
{
	const RuleDef *def = &rule_defs[hz->rule];

	return mg_max_lock_hold > 0 && def->size_dependent &&
		def->verdict == VERDICT_BLOCK && hold->kind != WORK_NONE;
}

/* Lines joined by newlines */
static char *
join_lines(List *lines)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, lines)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? "\n" : "",
						 (char *) lfirst(lc));
	return buf.data;
}

static void
build_messages(Finding *f, const Hazard *hz)
{
	const RelEffect *eff = f->effect;
	const RuleDef *def = &rule_defs[hz->rule];
	StringInfoData detail;
	StringInfoData hint;
	char	   *subject = psprintf("\"%s\"", hz->subject ? hz->subject : "");
	char	   *safe_sql;
	List	   *steps;
	char	   *table = psprintf("\"%s\"", eff->display);
	const char *message = def->message;

	/* the templates assume the common case; these causes have their own */
	if (hz->rule == RULE_ALTER_COLUMN_TYPE && !eff->rewrite)
		message = "changing the type of column {subject} would scan table {table} under ACCESS EXCLUSIVE lock";
	else if (hz->cause != NULL && IsA(hz->cause, AlterTableCmd) &&
			 is_validate_cmd((AlterTableCmd *) hz->cause))
		message = psprintf("validating constraint {subject} would scan table {table} under %s lock",
						   lock_mode_words(eff->lockmode));
	else if (hz->cause != NULL && IsA(hz->cause, AlterDomainStmt))
		message = "ALTER DOMAIN {subject} would scan table {table} while blocking writes";
	else if (hz->rule == RULE_ATTACH_PARTITION && hz->cause != NULL &&
			 IsA(hz->cause, CreateStmt))
		message = "CREATE TABLE ... PARTITION OF would scan default partition {table} under ACCESS EXCLUSIVE lock";
	else if (hz->rule == RULE_ADD_FOREIGN_KEY && IsA(hz->cause, AlterTableCmd) &&
			 ((AlterTableCmd *) hz->cause)->subtype == AT_AttachPartition)
		message = "ATTACH PARTITION would validate foreign key {subject} over partition {table} while blocking reads and writes";
	else if (hz->rule == RULE_ADD_FOREIGN_KEY && IsA(hz->cause, AlterTableCmd))
		message = "enforcing foreign key {subject} would scan table {table} while blocking reads and writes";
	else if (hz->rule == RULE_ADD_FOREIGN_KEY && eff->lockmode == AccessExclusiveLock)
		message = "adding a foreign key would scan table {table} while blocking reads and writes";
	f->message = fill_message(message, subject, table,
							  hz->subject ? hz->subject : eff->command,
							  eff->noun);
	/* how long, in the message's own words where it already says "block" */
	if (judged_by_time(hz, &f->hold) && strstr(f->message, "block") != NULL)
		f->message = psprintf("%s, for about %s", f->message,
							  format_ms(f->hold.predicted_ms));
	else if (judged_by_time(hz, &f->hold))
		f->message = psprintf("%s, blocking %s for about %s", f->message,
							  eff->lockmode == AccessExclusiveLock ?
							  "reads and writes" : "writes",
							  format_ms(f->hold.predicted_ms));

	initStringInfo(&detail);
	appendStringInfo(&detail, "%c%s %s is %s. ", pg_toupper((unsigned char) eff->noun[0]),
					 eff->noun + 1, table, size_phrase(&f->size));
	if (hz->rule == RULE_EXCLUSIVE_LOCK_HELD)
	{
		appendStringInfo(&detail, "An earlier statement of this transaction took an ACCESS EXCLUSIVE lock on it, "
						 "held until the transaction ends: every read and write of the %s waits while this %s runs.",
						 eff->noun, eff->command);
		f->detail = detail.data;
		/*
		 * A query (judge_held_lock) carries the held lock as its own; a DDL
		 * statement that scans keeps its own weaker mode.
		 */
		if (eff->lockmode == AccessExclusiveLock)
			f->hint = psprintf("Commit the schema change first, then run this %s in transactions of its own "
							   "(in batches if it touches many rows). To acknowledge it: SET migration_guard.allow = '%s';",
							   eff->command, def->name);
		else
			f->hint = psprintf("Commit the statement that took the ACCESS EXCLUSIVE lock first, then run this %s "
							   "in a transaction of its own. To acknowledge it: SET migration_guard.allow = '%s';",
							   eff->command, def->name);
		return;
	}
	appendStringInfo(&detail, "%s takes %s lock on it",
					 eff->command,
					 eff->lockmode == AccessExclusiveLock ? "an ACCESS EXCLUSIVE" :
					 psprintf("a %s", lock_mode_words(eff->lockmode)));
	if (eff->rewrite && eff->scan)
		appendStringInfoString(&detail, " and holds it while it rewrites every row into a new file");
	else if (eff->rewrite)
		appendStringInfo(&detail, " and holds it while it writes a new file for the %s", eff->noun);
	else if (eff->scan)
		appendStringInfoString(&detail, " and holds it while it reads every row");
	if (hz->rule == RULE_REINDEX && IsA(hz->cause, ReindexStmt) &&
		((ReindexStmt *) hz->cause)->kind == REINDEX_OBJECT_TABLE)
		appendStringInfoString(&detail, ". That lock blocks INSERT, UPDATE and DELETE, and each of its indexes is locked "
							   "ACCESS EXCLUSIVE, which planning any query on the table waits for: reads are blocked too.");
	else if (hz->rule == RULE_REINDEX)
		appendStringInfoString(&detail, ". That lock blocks INSERT, UPDATE and DELETE, and the index itself is locked "
							   "ACCESS EXCLUSIVE, which planning any query on the table waits for: reads are blocked too.");
	else
		appendStringInfo(&detail, ". That lock %s.", lock_blocks(eff->lockmode, eff->noun));
	if (hz->why && hz->rule == RULE_LOCK_QUEUE)
		appendStringInfo(&detail, " %s.", hz->why);
	else if (hz->why)
		appendStringInfo(&detail, " It does so because %s.", hz->why);
	if (judged_by_time(hz, &f->hold))
		appendStringInfo(&detail, " It would hold that lock for about %s: %s. "
						 "Statements that would hold such a lock longer than migration_guard.max_lock_hold (%s) "
						 "on tables over migration_guard.large_table_threshold (%s) are refused.",
						 format_ms(f->hold.predicted_ms), describe_hold(&f->hold),
						 format_ms(mg_max_lock_hold),
						 format_bytes((int64) mg_large_table_threshold * 1024));
	else if (def->size_dependent && def->verdict == VERDICT_BLOCK)
		appendStringInfo(&detail, " Tables over migration_guard.large_table_threshold (%s) are protected.",
						 format_bytes((int64) mg_large_table_threshold * 1024));
	else if (hz->rule == RULE_DROP_INDEX || hz->rule == RULE_DETACH_PARTITION)
		appendStringInfo(&detail, " Once granted it is held briefly: %s. "
						 "While it waits, every new query on the %s queues behind it, for at most the lock_timeout "
						 "(the lock_queue rule refuses it at once behind a long-running transaction).",
						 hz->rule == RULE_DROP_INDEX ? "DROP INDEX reads nothing" :
						 "DETACH PARTITION reads nothing, unless a foreign key references the table",
						 eff->noun);
	f->detail = detail.data;

	initStringInfo(&hint);
	safe_sql = suggest_safe_sql(eff, hz);
	steps = suggest_recipe_steps(safe_sql);
	f->recipe = join_lines(steps);

	/*
	 * The HINT is one screen line or two: the first step, and where the
	 * others are (a type change's recipe is a whole trigger-based migration)
	 */
	if (list_length(steps) > 1)
		safe_sql = psprintf("First of %d steps: %s migration_guard.check() shows them all.",
							list_length(steps), (char *) linitial(steps));
	else if (steps != NIL)
		safe_sql = (char *) linitial(steps);	/* trimmed */

	/*
	 * A warning's statement has run already: there is nothing to "run
	 * anyway".  An allowed lock_queue still waits no longer than the guard's
	 * lock_timeout.
	 */
	if (def->verdict == VERDICT_WARN)
		appendStringInfo(&hint, "%s To acknowledge it: SET migration_guard.allow = '%s';",
						 safe_sql, def->name);
	else if (hz->rule == RULE_LOCK_QUEUE && mg_lock_timeout > 0)
		appendStringInfo(&hint, "%s To queue anyway, for at most migration_guard.lock_timeout (%d ms): SET migration_guard.allow = '%s';",
						 safe_sql, mg_lock_timeout, def->name);
	else
		appendStringInfo(&hint, "%s To run it anyway: SET migration_guard.allow = '%s';",
						 safe_sql, def->name);
	f->hint = hint.data;

	if (f->override_denied)
	{
		f->detail = psprintf("migration_guard.allow names rule \"%s\", but only members of role \"%s\" may override rules. Without the override: %s. %s",
							 def->name, mg_override_role, f->message, f->detail);
		f->message = psprintf("permission denied to override migration_guard rule \"%s\"",
							  def->name);
		f->hint = psprintf("%s Or ask a member of role \"%s\" to run it.",
						   safe_sql, mg_override_role);
	}
}

/* May the current role override rules (migration_guard.override_role)? */
static bool
may_override(void)
{
	Oid			roleid;

	if (mg_override_role == NULL || mg_override_role[0] == '\0')
		return true;
	roleid = get_role_oid(mg_override_role, true);
	return OidIsValid(roleid) && is_member_of_role(GetUserId(), roleid);
}

static Finding *
new_finding(RelEffect *eff, RelSize size)
{
	Finding    *f = palloc0(sizeof(Finding));

	f->effect = eff;
	f->size = size;
	f->rule = -1;
	f->verdict = VERDICT_OK;
	return f;
}

/* Holders as one line for a DETAIL: pid, role, application, state, age, query */
char *
describe_holders(List *holders)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, holders)
	{
		LockHolder *h = (LockHolder *) lfirst(lc);

		if (buf.len > 0)
			appendStringInfoString(&buf, "; ");
		if (h->pid == 0)
			appendStringInfoString(&buf, "a prepared transaction (see pg_prepared_xacts)");
		else
			appendStringInfo(&buf, "process %d (role \"%s\", application \"%s\", %s, transaction open for %.1f s, query: %s)",
							 h->pid, h->role ? h->role : "?",
							 h->application ? h->application : "",
							 h->state ? h->state : "?",
							 h->xact_age_ms / 1000.0,
							 h->query ? h->query : "");
	}
	if (buf.len == 0)
		appendStringInfoString(&buf, "nobody");
	return buf.data;
}

/*
 * lock_queue: a statement that needs SHARE or stronger waits behind every
 * conflicting holder, and every later query on the table waits behind it.
 * If a holder's transaction is already old (migration_guard.lock_holder_age)
 * the wait is likely long: add the hazard.  A session that set its own
 * lock_timeout chose to wait, and is left alone.
 */
static void
add_lock_queue_hazard(RelEffect *eff)
{
	ListCell   *lc;
	LockHolder *oldest = NULL;
	Hazard	   *hz;

	/* a later_xact statement waits for the table's users by design */
	if (eff->is_new || !OidIsValid(eff->relid) || eff->lockmode < ShareLock ||
		eff->later_xact || eff->nowait || LockTimeout != 0)
		return;
	foreach(lc, eff->holders)
	{
		LockHolder *h = (LockHolder *) lfirst(lc);

		if (h->pid != 0 && h->xact_age_ms < mg_lock_holder_age)
			continue;			/* young, or age unknown: wait for it */
		if (oldest == NULL || h->pid == 0 || h->xact_age_ms > oldest->xact_age_ms)
			oldest = h;
	}
	if (oldest == NULL)
		return;

	hz = palloc0(sizeof(Hazard));
	hz->rule = RULE_LOCK_QUEUE;
	hz->holder = oldest;
	hz->why = psprintf("While this statement waits, every new query on the %s queues behind it. Conflicting locks are held by: %s",
					   eff->noun, describe_holders(eff->holders));
	eff->hazards = lappend(eff->hazards, hz);
}

/*
 * The transaction-wide rule: a query on a large table that this transaction
 * holds in ACCESS EXCLUSIVE mode.  NULL when there is nothing to report.
 * Shared by the ExecutorStart hook and check().
 */
Finding *
judge_held_lock(HeldLock *held, const char *command)
{
	RelEffect  *eff = palloc0(sizeof(RelEffect));
	Hazard	   *hz = palloc0(sizeof(Hazard));
	Finding    *f;

	eff->command = command;
	eff->relid = held->relid;
	eff->relname = held->relname;
	eff->display = held->display;
	eff->noun = "table";
	eff->lockmode = AccessExclusiveLock;
	hz->rule = RULE_EXCLUSIVE_LOCK_HELD;
	eff->hazards = list_make1(hz);

	f = new_finding(eff, held->size);
	f->rule = hz->rule;
	f->verdict = rule_defs[hz->rule].verdict;
	if (mg_mode == GUARD_MODE_OFF)
		f->verdict = VERDICT_OK;
	if (allowed_rules != NULL && allowed_rules[hz->rule])
	{
		f->allowed = true;
		f->verdict = VERDICT_OK;
	}
	build_messages(f, hz);
	return f;
}

/*
 * Rules whose harm is the loss of the table's rows (TRUNCATE, DROP TABLE):
 * on a table that has none there is nothing to say.  Renames and dropped
 * columns break code whatever the size, so they are not among them.
 */
static bool
rule_deletes_rows(int rule)
{
	return rule == RULE_TRUNCATE || rule == RULE_DROP_TABLE;
}

/*
 * Inspect, measure and judge one statement.  Returns one Finding per hazard
 * that fires, plus one "nothing to report" Finding (rule -1) for each
 * affected relation where none fires.
 */
List *
judge_statement(Node *parsetree, const char *sql, ScriptState *script)
{
	List	   *effects = inspect_statement(parsetree, sql, script);
	List	   *findings = NIL;
	int64		threshold = (int64) mg_large_table_threshold * 1024;
	ListCell   *lc;

	foreach(lc, effects)
	{
		RelEffect  *eff = (RelEffect *) lfirst(lc);
		RelSize		size = {0};
		HoldTime	longest = {0};
		int			fired = 0;
		ListCell   *hc;

		if (OidIsValid(eff->relid) && !eff->is_new)
		{
			bool		given;

			size = given_or_measured_size(script, eff->relid, &given);
			eff->holders = measure_lock_holders(eff->relid, eff->lockmode);
			/* a size given to check() is a table in use elsewhere */
			eff->unused = !given && unused_table(eff->relid);

			/*
			 * A scan under a weak lock (VALIDATE CONSTRAINT, say) is no
			 * longer harmless when an earlier statement of the transaction
			 * locked the table ACCESS EXCLUSIVE: that lock is held while it
			 * runs.  Only where no other rule speaks.
			 */
			if (eff->hazards == NIL && (eff->scan || eff->rewrite) &&
				eff->lockmode < AccessExclusiveLock &&
				held_lock_on(script, eff->relid))
			{
				Hazard	   *hz = palloc0(sizeof(Hazard));

				hz->rule = RULE_EXCLUSIVE_LOCK_HELD;
				eff->hazards = lappend(eff->hazards, hz);
			}
		}
		add_lock_queue_hazard(eff);

		foreach(hc, eff->hazards)
		{
			Hazard	   *hz = (Hazard *) lfirst(hc);
			const RuleDef *def = &rule_defs[hz->rule];
			RelSize		work = work_size(hz, size);
			HoldTime	hold;
			Finding    *f;

			if (eff->is_new)
				break;			/* nobody else can see it */
			hold = predict_hold(eff, hz, &work, script);
			if (hold.predicted_ms > longest.predicted_ms)
				longest = hold;
			if (def->size_dependent && work.bytes <= threshold)
				continue;
			if (judged_by_time(hz, &hold) &&
				hold.predicted_ms <= mg_max_lock_hold)
				continue;
			/* deleting the rows of a table that has none: noise */
			if (rule_deletes_rows(hz->rule) && work.bytes == 0 && work.rows == 0)
				continue;

			f = new_finding(eff, work);
			f->hold = hold;
			f->rule = hz->rule;
			f->verdict = def->verdict;
			if (mg_mode == GUARD_MODE_OFF)
				f->verdict = VERDICT_OK;
			else if (eff->unused &&
					 (def->size_dependent || hz->rule == RULE_LOCK_QUEUE ||
					  hz->rule == RULE_DROP_TABLE))
			{
				/*
				 * Nobody uses the table yet: nobody waits for its lock, and
				 * nobody has read the rows a DROP TABLE deletes.  What breaks
				 * code that may be deployed later (a dropped or renamed
				 * column) still says so.
				 */
				f->verdict = VERDICT_OK;
				f->unused = true;
			}
			else if (mg_mode == GUARD_MODE_WARN && f->verdict == VERDICT_BLOCK)
				f->verdict = VERDICT_WARN;
			if (allowed_rules != NULL && allowed_rules[hz->rule] &&
				f->verdict != VERDICT_OK)
			{
				if (may_override())
				{
					f->allowed = true;
					f->verdict = VERDICT_OK;
				}
				else
					f->override_denied = true;	/* verdict stands */
			}
			build_messages(f, hz);
			if (f->unused)
				f->message = psprintf("%s (let through: no session has used the %s since it was created)",
									  f->message, eff->noun);
			findings = lappend(findings, f);
			fired++;
		}
		if (fired == 0)
		{
			Finding    *f = new_finding(eff, size);

			/* what the audit learns the server's rates from */
			f->hold = longest;
			findings = lappend(findings, f);
		}
	}
	return findings;
}
