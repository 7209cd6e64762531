/*-------------------------------------------------------------------------
 *
 * hook.c
 *	  The ProcessUtility hook: decide cheaply whether a statement needs to
 *	  be judged, judge it, and act on the verdict before it runs.
 *
 * Acting means: a statement with no finding runs silently; a "warn" finding
 * raises a WARNING and the statement runs; a "block" finding raises an ERROR
 * with SQLSTATE MG001 and the statement never starts, so it takes no lock.
 *
 * The hook chains to any previously installed hook (or to
 * standard_ProcessUtility) exactly once per call, also for statements it
 * does not look at.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/hook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "migration_guard.h"
#include "guarded.h"

/* The previous hook, or PostgreSQL itself: called once per statement */
static ProcessUtility_hook_type next_ProcessUtility = NULL;

/*
 * How many judged statements are running in this backend, one inside the
 * other.  The statements PostgreSQL generates for a judged statement and
 * runs as its subcommands (the foreign keys and indexes of a CREATE TABLE,
 * the index of an ALTER TABLE ... ADD UNIQUE) are part of what that
 * statement's inspection reported: they are not judged or audited again.
 */
static int	judged_running = 0;

/*
 * How many ALTER EXTENSION ... UPDATE statements are running in this
 * backend.  CREATE EXTENSION's script makes new objects, and is not
 * judged; an update script changes objects that exist and may hold data,
 * and each of its statements is judged like any other.
 */
static int	updating_extension = 0;

/*
 * inspect_is_guarded(stmt, false) for each node type below the table's
 * size, filled in by hook_install(): the fast path is one load, with no
 * call and no frame.  A type beyond it goes to the exact test.
 */
#define GUARDED_TYPES 1024
static bool guarded_type[GUARDED_TYPES];

/*
 * Statement types the fast path sends on to slow_path(): those the guard
 * may judge, and those that tell unused_tables.c a table was created
 * (CREATE TABLE, CREATE TABLE AS), is used (LOCK TABLE) or may be gone
 * (DROP, DROP OWNED, DROP DATABASE)
 */
static bool slow_type[GUARDED_TYPES];

/* What one judged statement amounts to, for acting and for the audit */
typedef struct Judgement
{
	List	   *findings;
	Finding    *first_block;	/* the finding that refuses it, if any */
	Finding    *main;			/* the row's relation: first block/fired/any */
	List	   *rules;			/* ids of the rules that fired */
	const char *verdict;		/* ok | warned | blocked | overridden */
	bool		audit;			/* to be recorded */
	ErrorData  *unjudged;		/* why inspecting it failed, if it did */
} Judgement;

/* What the hook knows about the statement it judges */
typedef struct Guarded
{
	MemoryContext cxt;			/* lives until the statement is audited */
	Oid			role;			/* current_user when the statement began */
	const char *command;
	char	   *sql;
	Judgement	j;
	FirstLock	fl;
	int64		early_id;		/* its row, when written before it ran */
	double		lock_wait_ms;	/* waiting for the first lock we took for
								 * it, or -1: we did not take it */
	TimestampTz asked;			/* when we began to wait for it, while we do */
} Guarded;

/* The chained call's arguments, for running it under our lock_timeout */
typedef struct ChainedCall
{
	PlannedStmt *pstmt;
	const char *queryString;
	bool		readOnlyTree;
	ProcessUtilityContext context;
	ParamListInfo params;
	QueryEnvironment *queryEnv;
	DestReceiver *dest;
	QueryCompletion *qc;
} ChainedCall;

/* not inlined: its large frame would be paid by every utility statement */
static pg_noinline void slow_path(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);
static pg_noinline void guard_statement(PlannedStmt *pstmt, const char *queryString,
										bool readOnlyTree, ProcessUtilityContext context,
										ParamListInfo params, QueryEnvironment *queryEnv,
										DestReceiver *dest, QueryCompletion *qc);
static void judge_under_first_lock(Guarded *g, Node *parsetree,
								   ProcessUtilityContext context);
static bool judge(Guarded *g, Node *parsetree);
static bool ends_statement(int sqlerrcode);
static void report_unjudged(Guarded *g);
static void summarize(Judgement *j);
static void run_statement(void *arg);
static void wait_first_lock(void *arg);
static void with_lock_timeout(void (*fn) (void *), void *arg,
							  const RelEffect *timed, Guarded *g);
static const RelEffect *lock_timeout_target(Judgement *j);
static void explain_lock_timeout(Guarded *g, const RelEffect *eff);
static void report_findings(Judgement *j);
static void refuse(Guarded *g);
static void record_durably_before(Guarded *g);
static void record_durably_after(Guarded *g, AuditRow *row);
static double ms_since(TimestampTz t);

static inline void
chain(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
	  ProcessUtilityContext context, ParamListInfo params,
	  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	next_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
						queryEnv, dest, qc);
}

/*
 * ProcessUtility hook.  What every other utility statement pays is this
 * test, before the chain is called; guarded DDL goes to guard_statement().
 * The type is tested first: most statements leave there.
 */
static void
mg_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	unsigned int type = (unsigned int) nodeTag(pstmt->utilityStmt);

	if (type >= GUARDED_TYPES || slow_type[type])
		slow_path(pstmt, queryString, readOnlyTree, context, params,
				  queryEnv, dest, qc);
	else
		chain(pstmt, queryString, readOnlyTree, context, params, queryEnv,
			  dest, qc);
}

/*
 * A statement the guard may judge, or one that creates or locks a table.
 * Out of line, as guard_statement(), so that the fast path stays a jump.
 */
static pg_noinline void
slow_path(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		  ProcessUtilityContext context, ParamListInfo params,
		  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	unsigned int type = (unsigned int) nodeTag(pstmt->utilityStmt);
	Oid			dropped_db = InvalidOid;

	/* whoever locks a table uses it (unused_tables.c) */
	if (type == T_LockStmt && unused_tables_any())
		unused_tables_note_locked((LockStmt *) pstmt->utilityStmt);
	if (type == T_DropdbStmt && unused_tables_any())
		dropped_db = get_database_oid(((DropdbStmt *) pstmt->utilityStmt)->dbname,
									  true);

	if ((type >= GUARDED_TYPES || guarded_type[type]) &&
		mg_mode != GUARD_MODE_OFF &&
		!(context == PROCESS_UTILITY_SUBCOMMAND && judged_running > 0))
		guard_statement(pstmt, queryString, readOnlyTree, context, params,
						queryEnv, dest, qc);
	else
		chain(pstmt, queryString, readOnlyTree, context, params, queryEnv,
			  dest, qc);

	/* a table it created is unused until a query uses it */
	if (type == T_CreateStmt || type == T_CreateTableAsStmt)
		unused_tables_note_created(pstmt->utilityStmt);
	/* a table it dropped is forgotten */
	else if (type == T_DropStmt || type == T_DropOwnedStmt)
		unused_tables_forget_dropped();
	else if (OidIsValid(dropped_db))
		unused_tables_forget_database(dropped_db);
}

/*
 * A statement the guard inspects: judge it, then run it through the chain
 * and audit it.
 */
static void
guard_statement(PlannedStmt *pstmt, const char *queryString,
				bool readOnlyTree,
				ProcessUtilityContext context, ParamListInfo params,
				QueryEnvironment *queryEnv,
				DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	Guarded    *g = NULL;
	ChainedCall call = {pstmt, queryString, readOnlyTree, context, params,
	queryEnv, dest, qc};
	AuditRow	row;
	LocalTransactionId lxid = InvalidLocalTransactionId;
	TimestampTz start = 0;
	const RelEffect *timed = NULL;	/* relation we put lock_timeout on */

	/* the fast path let through every statement of a type it may guard */
	if (!inspect_is_guarded(parsetree, true))
	{
		chain(pstmt, queryString, readOnlyTree, context, params, queryEnv,
			  dest, qc);
		return;
	}

	/*
	 * Binary upgrade and CREATE EXTENSION scripts recreate objects rather
	 * than change live tables; an aborted transaction can run no DDL
	 * anyway.  A statement PostgreSQL will refuse this user for want of a
	 * privilege gets that error alone.
	 */
	if (!IsBinaryUpgrade &&
		(!creating_extension || updating_extension > 0) &&
		!RecoveryInProgress() &&
		IsTransactionState() &&
		authorize_statement(parsetree, false))
	{
		MemoryContext cxt;
		MemoryContext oldcxt;

		/*
		 * A child of the statement's context, so that it survives the
		 * transactions that CONCURRENTLY and VACUUM commit internally; we
		 * delete it once the statement is done and audited.
		 */
		cxt = AllocSetContextCreate(CurrentMemoryContext,
									"migration_guard",
									ALLOCSET_DEFAULT_SIZES);
		oldcxt = MemoryContextSwitchTo(cxt);
		g = palloc0(sizeof(Guarded));
		g->cxt = cxt;
		g->lock_wait_ms = -1;

		/*
		 * The statement may change the user while it runs (REFRESH
		 * MATERIALIZED VIEW becomes the view's owner): its row names who ran
		 * it.
		 */
		g->role = GetUserId();
		g->command = GetCommandTagName(CreateCommandTag(parsetree));
		g->sql = sql_cut_statement(queryString, pstmt->stmt_location,
								   pstmt->stmt_len);
		judge_under_first_lock(g, parsetree, context);
		report_findings(&g->j);
		if (g->j.first_block != NULL)
			refuse(g);			/* does not return */

		timed = lock_timeout_target(&g->j);
		if (g->j.audit && commits_inside(parsetree, context))
			record_durably_before(g);
		MemoryContextSwitchTo(oldcxt);
		if (g->j.audit)
			start = GetCurrentTimestamp();
	}

	if (IsA(parsetree, AlterExtensionStmt))
	{
		updating_extension++;
		PG_TRY();
		{
			run_statement(&call);
		}
		PG_FINALLY();
		{
			updating_extension--;
		}
		PG_END_TRY();
	}
	else if (g == NULL)
		run_statement(&call);
	else
	{
		lxid = mg_my_lxid();
		judged_running++;
		PG_TRY();
		{
			if (timed == NULL)
				run_statement(&call);
			else
				with_lock_timeout(run_statement, &call, timed, g);
		}
		PG_FINALLY();
		{
			judged_running--;
		}
		PG_END_TRY();
	}

	if (g != NULL)
	{
		if (g->j.unjudged != NULL)
			report_unjudged(g);
		/* the row first: its INSERT is not a query under the lock we note */
		if (g->j.audit)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(g->cxt);
			double		held_ms = ms_since(start);

			audit_fill_row(&row, g->role, g->command, g->sql, g->j.main,
						   g->j.rules, g->j.verdict, g->lock_wait_ms, held_ms);

			/*
			 * A statement that committed on its own (VACUUM FULL,
			 * CONCURRENTLY) is done whatever happens next, and a read-only
			 * transaction cannot take the row: a worker commits it, and an
			 * error there must not turn a finished statement into a failed
			 * one (the row then goes to the server log).  Its row was
			 * mostly written before it ran: only held_ms is left.
			 */
			if (g->early_id != 0)
				(void) audit_finish_durably(g->early_id, held_ms, &row);
			else if (mg_my_lxid() != lxid || XactReadOnly)
				record_durably_after(g, &row);
			else
				audit_record_ran(&row);
			MemoryContextSwitchTo(oldcxt);
		}
		held_locks_note(g->j.findings, NULL);
		MemoryContextDelete(g->cxt);
	}
}

/* Milliseconds since t */
static double
ms_since(TimestampTz t)
{
	long		secs;
	int			usecs;

	TimestampDifference(t, GetCurrentTimestamp(), &secs, &usecs);
	return secs * 1000.0 + usecs / 1000.0;
}

/*
 * Judge the statement, and where first_lock.c can take its first lock (see
 * there for which statements and why), judge it again with that lock held.
 * The first judgement is made as things stand, without a lock: a statement
 * it refuses (an old holder, a large table) is refused at once, so that a
 * statement we would refuse neither queues nor takes a lock that readers,
 * or a standby replaying it, would wait for.  A statement it lets through
 * takes its lock, waiting if it must within the statement's lock_timeout,
 * and is judged again under it: the table may have grown, or the name moved
 * to another relation, before the lock was ours.  Once judged, the name
 * must still mean the locked relation, or we start over.
 */
static void
judge_under_first_lock(Guarded *g, Node *parsetree,
					   ProcessUtilityContext context)
{
	if (!judge(g, parsetree) ||
		g->j.first_block != NULL ||
		!first_lock_of(parsetree, context, &g->fl))
		return;

	g->lock_wait_ms = 0;
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		first_lock_take(&g->fl, false);
		if (g->fl.busy)
		{
			const RelEffect *timed = lock_timeout_target(&g->j);

			/* the audit tells waiting for the lock from holding it */
			g->asked = GetCurrentTimestamp();
			if (timed == NULL)
				wait_first_lock(&g->fl);
			else
				with_lock_timeout(wait_first_lock, &g->fl, timed, g);
			g->lock_wait_ms += ms_since(g->asked);
			g->asked = 0;
		}
		if (!OidIsValid(g->fl.relid))
			return;				/* gone: PostgreSQL says so */
		if (!judge(g, parsetree) || !first_lock_moved(&g->fl))
			return;
		first_lock_release(&g->fl);
	}
}

typedef struct JudgeCall
{
	Guarded    *g;
	Node	   *parsetree;
} JudgeCall;

static void
call_judge_statement(void *arg)
{
	JudgeCall  *call = (JudgeCall *) arg;

	call->g->j.findings = judge_statement(call->parsetree, call->g->sql, NULL);
}

/*
 * One judgement of the statement, replacing any earlier one.
 *
 * Inspecting reads what the statement names before PostgreSQL has checked
 * it, so a statement PostgreSQL will reject (a list bound for a range
 * partition, a partition whose columns do not match its parent's) can make
 * the inspection fail first, with another message.  The statement must get
 * PostgreSQL's own error, so the inspection runs in a subtransaction: an
 * error there ends the judgement, not the statement, and PostgreSQL
 * decides.  A statement that PostgreSQL then runs has run unjudged, and
 * says so (report_unjudged()).  A cancel, a timeout or a lack of resources
 * ends the statement as it would anywhere else.
 *
 * Returns false when the statement could not be judged.
 */
static bool
judge(Guarded *g, Node *parsetree)
{
	JudgeCall	call = {g, parsetree};

	g->j.findings = NIL;
	g->j.unjudged = mg_in_subtransaction(call_judge_statement, &call, false,
										 ends_statement);
	summarize(&g->j);
	return g->j.unjudged == NULL;
}

/*
 * Errors that end a statement whatever it is: an inspection that meets
 * one passes it on rather than leave the statement to PostgreSQL.  A lock
 * it could not get, too: the statement would wait for it as well.
 */
static bool
ends_statement(int sqlerrcode)
{
	return mg_error_ends_work(sqlerrcode) ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

static void
wait_first_lock(void *arg)
{
	first_lock_take((FirstLock *) arg, true);
}

/*
 * Run fn under migration_guard.lock_timeout: the race the lock_queue rule
 * cannot see is a holder that arrives after we looked, or one too young to
 * refuse for.  Wait at most migration_guard.lock_timeout, for this
 * statement only; the session's own value (0) comes back on success and on
 * error, whatever the statement commits inside.
 */
static void
with_lock_timeout(void (*fn) (void *), void *arg, const RelEffect *timed,
				  Guarded *g)
{
	int			save_lock_timeout = LockTimeout;

	LockTimeout = mg_lock_timeout;
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		LockTimeout = save_lock_timeout;
		if (geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE)
			explain_lock_timeout(g, timed);
		PG_RE_THROW();
	}
	PG_END_TRY();
	LockTimeout = save_lock_timeout;
}

/* The chained call, exactly once per statement */
static void
run_statement(void *arg)
{
	ChainedCall *c = (ChainedCall *) arg;

	chain(c->pstmt, c->queryString, c->readOnlyTree, c->context, c->params,
		  c->queryEnv, c->dest, c->qc);
}

/*
 * Does this statement get migration_guard.lock_timeout?  When it takes
 * SHARE or stronger on a relation others can see, and the session has no
 * lock_timeout of its own.  Returns that relation's effect, or NULL.
 */
static const RelEffect *
lock_timeout_target(Judgement *j)
{
	ListCell   *lc;
	const RelEffect *target = NULL;

	if (mg_lock_timeout <= 0 || LockTimeout != 0)
		return NULL;
	foreach(lc, j->findings)
	{
		Finding    *f = (Finding *) lfirst(lc);

		/*
		 * Not for a lock taken in a statement's later transaction: a timeout
		 * there would leave the statement half done (DETACH ... CONCURRENTLY
		 * would need FINALIZE).
		 */
		if (!f->effect->is_new && OidIsValid(f->effect->relid) &&
			!f->effect->later_xact && !f->effect->nowait &&
			f->effect->lockmode >= ShareLock &&
			(target == NULL || f->effect->lockmode > target->lockmode))
			target = f->effect;
	}
	return target;
}

/*
 * If the statement's error is our lock_timeout running out, add to it what
 * happened and what to do, and record the statement as timed out if it is
 * audited (durably: the transaction is about to abort).  Any other error is
 * left to the caller to re-throw untouched: NOWAIT and a function's RAISE
 * give the same SQLSTATE, and the timeout's indicator is already reset when
 * we get here, so the message tells them apart.
 */
static void
explain_lock_timeout(Guarded *g, const RelEffect *eff)
{
	MemoryContext cxt = g->cxt;
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	ErrorData  *edata = CopyErrorData();

	if (edata->message_id == NULL ||
		strcmp(edata->message_id, "canceling statement due to lock timeout") != 0)
	{
		FreeErrorData(edata);
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	FlushErrorState();
	edata->detail = psprintf("migration_guard set lock_timeout to %d ms for this %s because, while it waits for its %s lock on %s \"%s\", every later query on that %s waits behind it. "
							 "Conflicting locks were held, when it started, by: %s.",
							 mg_lock_timeout, g->command,
							 lock_mode_words(eff->lockmode), eff->noun,
							 eff->display, eff->noun,
							 describe_holders(eff->holders));
	edata->hint = psprintf("Retry when the %s is quiet. To see who holds it: SELECT pid, mode, granted, pg_blocking_pids(pid) FROM pg_locks WHERE relation = '%s'::regclass; to wait longer, set a lock_timeout of your own.",
						   eff->noun, eff->relname);
	if (g->j.audit)
	{
		/*
		 * The timeout is what the client must see: an error while recording
		 * it (a cancel while we wait for the worker, no DSM segment left)
		 * goes to the server log instead.  The transaction aborts right
		 * after, which releases whatever that error left behind.
		 */
		PG_TRY();
		{
			AuditRow	row;

			/* what it waited for, when it was our wait that timed out */
			audit_fill_row(&row, g->role, g->command, g->sql, g->j.main,
						   g->j.rules, "timed_out",
						   g->asked != 0 ? g->lock_wait_ms + ms_since(g->asked) : -1,
						   -1);
			(void) audit_record_durably(&row, NULL);
		}
		PG_CATCH();
		{
			ErrorData  *lost;

			MemoryContextSwitchTo(cxt);
			lost = CopyErrorData();
			FlushErrorState();
			ereport(LOG,
					(errcode(lost->sqlerrcode),
					 errmsg("could not record the timed-out statement in migration_guard.audit_log: %s",
							lost->message)));
		}
		PG_END_TRY();
	}
	MemoryContextSwitchTo(oldcxt);
	ReThrowError(edata);
}

/*
 * Sum up the findings: the verdict for the audit, the finding that refuses
 * the statement, and whether migration_guard.audit wants a row.
 */
static void
summarize(Judgement *j)
{
	ListCell   *lc;
	bool		warned = false;
	bool		overridden = false;
	bool		unused = false;
	bool		existing = false;

	j->first_block = NULL;
	j->main = NULL;
	j->rules = NIL;
	foreach(lc, j->findings)
	{
		Finding    *f = (Finding *) lfirst(lc);

		if (!f->effect->is_new)
			existing = true;
		if (f->rule < 0)
		{
			if (j->main == NULL && !f->effect->is_new)
				j->main = f;
			continue;
		}
		j->rules = list_append_unique_int(j->rules, f->rule);
		unused |= f->unused;
		if (f->verdict == VERDICT_BLOCK && j->first_block == NULL)
			j->first_block = f;
		warned |= (f->verdict == VERDICT_WARN);
		overridden |= f->allowed;
	}
	if (j->first_block)
		j->main = j->first_block;
	else
	{
		foreach(lc, j->findings)
		{
			Finding    *f = (Finding *) lfirst(lc);

			if (f->rule >= 0)
			{
				j->main = f;
				break;
			}
		}
	}

	/*
	 * The row names the statement's relation, and records the longest work
	 * it does, wherever that is (an ATTACH scans the partition, not the
	 * parent): what the server learns its rates from.
	 */
	if (j->main != NULL && j->main->hold.kind == WORK_NONE)
	{
		foreach(lc, j->findings)
		{
			Finding    *f = (Finding *) lfirst(lc);

			if (f->hold.kind != WORK_NONE && !f->effect->is_new &&
				f->hold.predicted_ms > j->main->hold.predicted_ms)
				j->main->hold = f->hold;
		}
	}
	j->verdict = j->first_block ? "blocked" : overridden ? "overridden" :
		warned ? "warned" : unused ? "unused_table" : "ok";
	j->audit = existing &&
		(mg_audit == AUDIT_ALL || (mg_audit == AUDIT_FLAGGED && j->rules != NIL));
	if (j->unjudged != NULL)
	{
		j->verdict = "unjudged";
		j->audit = (mg_audit != AUDIT_OFF);
	}
}

/*
 * NOTICE for each override, WARNING for each warning and for each blocking
 * finding but the first, which refuse() raises as the ERROR: one round trip
 * shows the DBA everything that needs changing.
 */
static void
report_findings(Judgement *j)
{
	ListCell   *lc;

	foreach(lc, j->findings)
	{
		Finding    *f = (Finding *) lfirst(lc);

		if (f->rule < 0 || f == j->first_block)
			continue;
		report_finding(f);
	}
}

/*
 * A finding that lets its statement run: a NOTICE if an override let it
 * through, a WARNING if its verdict is warn (or block, when it is not the
 * one that refuses), nothing if ok.
 */
void
report_finding(const Finding *f)
{
	if (f->allowed)
		ereport(NOTICE,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s (allowed by migration_guard.allow)", f->message),
				 errdetail_internal("%s", f->detail)));
	else if (f->verdict != VERDICT_OK)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s", f->message),
				 errdetail_internal("%s", f->detail),
				 errhint("%s", f->hint)));
}

/*
 * The row of a statement that will commit on its own, committed before it
 * runs, without held_ms: a crash once its work is committed must not
 * leave that work unrecorded.  If the worker cannot write it, the row goes
 * to the server log, and is written again once the statement has run.
 */
static void
record_durably_before(Guarded *g)
{
	AuditRow	row;

	audit_fill_row(&row, g->role, g->command, g->sql, g->j.main,
				   g->j.rules, g->j.verdict, g->lock_wait_ms, -1);
	(void) audit_record_durably(&row, &g->early_id);
}

/*
 * The row of a statement that ran and cannot be undone: committed by the
 * worker, or else written to the server log, and never an ERROR.
 */
static void
record_durably_after(Guarded *g, AuditRow *row)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		const char *why = audit_record_durably(row, NULL);

		if (why != NULL)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("could not record the statement in migration_guard.audit_log"),
					 errdetail("%s It was written to the server log instead.", why)));
	}
	PG_CATCH();
	{
		ErrorData  *lost;

		MemoryContextSwitchTo(cxt);
		lost = CopyErrorData();
		FlushErrorState();
		audit_record_to_log(row, lost->message);
		ereport(WARNING,
				(errcode(lost->sqlerrcode),
				 errmsg("could not record the statement in migration_guard.audit_log: %s",
						lost->message),
				 errdetail("%s has run. Its row was written to the server log instead.",
						   g->command)));
	}
	PG_END_TRY();
}

/*
 * A statement that could not be judged, and that PostgreSQL then ran: the
 * DBA learns why, here and in the server log, and the audit has its row.
 */
static void
report_unjudged(Guarded *g)
{
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("migration_guard could not judge this %s statement", g->command),
			 errdetail("Inspecting it failed with \"%s\". The statement ran unjudged.",
					   g->j.unjudged->message),
			 errhint("Report it to the migration_guard developers with the statement.")));
}

/*
 * Refuse the statement.  Its audit row is committed first, by a background
 * worker, since this transaction is about to abort.
 */
static void
refuse(Guarded *g)
{
	Judgement  *j = &g->j;
	Finding    *f = j->first_block;

	/* readers need not queue behind a statement that will not run */
	first_lock_release(&g->fl);
	if (j->audit)
	{
		AuditRow	row;
		const char *why;

		audit_fill_row(&row, GetUserId(), g->command, g->sql, j->main,
					   j->rules, "blocked", g->lock_wait_ms, -1);
		why = audit_record_durably(&row, NULL);
		if (why != NULL)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("could not record the refusal in migration_guard.audit_log"),
					 errdetail("%s It was written to the server log instead.", why)));
	}

	ereport(ERROR,
			(errcode(f->override_denied ? ERRCODE_INSUFFICIENT_PRIVILEGE :
					 ERRCODE_MG_STATEMENT_BLOCKED),
			 errmsg("%s", f->message),
			 errdetail_internal("%s", f->detail),
			 errhint("%s", f->hint)));
}

/*
 * Is a judged statement running?  The queries PostgreSQL runs for it (the
 * validation of a foreign key it adds) are part of it, not queries of the
 * client's.
 */
bool
hook_judged_running(void)
{
	return judged_running > 0;
}

void
hook_install(void)
{
	for (int t = 0; t < GUARDED_TYPES; t++)
	{
		Node		node = {.type = (NodeTag) t};

		guarded_type[t] = inspect_is_guarded(&node, false);
		slow_type[t] = guarded_type[t] || t == T_CreateStmt ||
			t == T_CreateTableAsStmt || t == T_LockStmt ||
			t == T_DropStmt || t == T_DropOwnedStmt || t == T_DropdbStmt;
	}

	next_ProcessUtility = ProcessUtility_hook ? ProcessUtility_hook :
		standard_ProcessUtility;
	ProcessUtility_hook = mg_ProcessUtility;
}
