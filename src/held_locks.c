/*-------------------------------------------------------------------------
 *
 * held_locks.c
 *	  The transaction-wide hazard: ACCESS EXCLUSIVE locks a migration took
 *	  on large tables are held until its transaction ends.
 *
 * A migration file run in one transaction, say ADD COLUMN followed by a
 * backfill UPDATE, keeps the ADD COLUMN's ACCESS EXCLUSIVE lock for as long
 * as the UPDATE runs: the table is frozen for the whole backfill although
 * each statement alone looked harmless.  The utility hook notes every
 * ACCESS EXCLUSIVE lock a guarded statement takes on a large table; the
 * ExecutorStart hook warns once per table when a later query of the same
 * transaction reads or writes it while the lock is still held.  check()
 * follows the same reasoning through a script.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/held_locks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parsetree.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "migration_guard.h"

/* ACCESS EXCLUSIVE locks on large tables taken in this transaction */
/*
 * The list belongs to the top-level transaction whose local id it carries
 * (it lives in that transaction's memory): a list of an ended transaction
 * is never read, only dropped.  No end-of-transaction callback is needed,
 * so ordinary transactions pay nothing for it.
 */
static List *held_locks = NIL;
static LocalTransactionId held_lxid = InvalidLocalTransactionId;

/* This transaction's list: empty unless this transaction made it */
static inline List *
current_held_locks(void)
{
	if (held_locks != NIL && held_lxid != mg_my_lxid())
		held_locks = NIL;
	return held_locks;
}

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/*
 * Remember the large tables a guarded statement that just ran locked in
 * ACCESS EXCLUSIVE mode.  "list" is the transaction's list (NULL: ours) or
 * a check() script's.
 */
void
held_locks_note(List *findings, List **list)
{
	int64		threshold = (int64) mg_large_table_threshold * 1024;
	MemoryContext oldcxt = NULL;
	ListCell   *lc;

	if (list == NULL)
	{
		(void) current_held_locks();
		held_lxid = mg_my_lxid();
		list = &held_locks;
		oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	}
	foreach(lc, findings)
	{
		Finding    *f = (Finding *) lfirst(lc);
		RelEffect  *eff = f->effect;
		HeldLock   *h;
		ListCell   *hc;
		bool		known = false;

		if (eff->is_new || !OidIsValid(eff->relid) ||
			eff->lockmode != AccessExclusiveLock || f->size.bytes <= threshold)
			continue;
		foreach(hc, *list)
			known |= ((HeldLock *) lfirst(hc))->relid == eff->relid;
		if (known)
			continue;
		h = palloc0(sizeof(HeldLock));
		h->relid = eff->relid;
		h->relname = pstrdup(eff->relname);
		h->display = pstrdup(eff->display);
		h->size = f->size;
		*list = lappend(*list, h);
	}
	if (oldcxt)
		MemoryContextSwitchTo(oldcxt);
}

/* The held lock on this relation, if one was noted */
HeldLock *
held_locks_find(List *list, Oid relid)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		HeldLock   *h = (HeldLock *) lfirst(lc);

		if (h->relid == relid)
			return h;
	}
	return NULL;
}

/*
 * Does an earlier statement hold this relation ACCESS EXCLUSIVE?  In a
 * check() script, by the script's list; in this transaction, by ours, and
 * only while the lock is still held (a rolled-back savepoint releases it).
 */
bool
held_lock_on(const ScriptState *script, Oid relid)
{
	LOCKTAG		tag;

	if (script != NULL)
		return held_locks_find(script->held, relid) != NULL;
	if (held_locks_find(current_held_locks(), relid) == NULL)
		return false;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	return mg_lock_held_by_me(&tag, AccessExclusiveLock);
}

/*
 * A query of this transaction after a guarded statement locked a large
 * table ACCESS EXCLUSIVE: warn once per table it reads or writes while the
 * lock is still held.  Out of line, so that its frame is not paid by the
 * test in mg_ExecutorStart.
 */
static pg_noinline void
warn_held_lock_queries(QueryDesc *queryDesc)
{
	ListCell   *lc;

	/* a query PostgreSQL runs for a judged statement is part of it */
	if (hook_judged_running())
		return;
	foreach(lc, queryDesc->plannedstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		HeldLock   *h;
		LOCKTAG		tag;

		if (rte->rtekind != RTE_RELATION)
			continue;
		h = held_locks_find(held_locks, rte->relid);
		if (h == NULL || h->warned)
			continue;
		/* a rolled-back savepoint may have released it */
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, h->relid);
		if (!mg_lock_held_by_me(&tag, AccessExclusiveLock))
			continue;
		h->warned = true;
		report_finding(judge_held_lock(h, queryDesc->operation == CMD_SELECT ? "SELECT" :
									queryDesc->operation == CMD_UPDATE ? "UPDATE" :
									queryDesc->operation == CMD_INSERT ? "INSERT" :
									queryDesc->operation == CMD_DELETE ? "DELETE" :
									"query"));
	}
}

/*
 * ExecutorStart hook: all that ordinary queries pay is the test of an
 * empty list, and of an empty set of unused tables (unused_tables.c).
 */
static void
mg_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (unlikely(held_locks != NIL) && current_held_locks() != NIL &&
		mg_mode != GUARD_MODE_OFF &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		warn_held_lock_queries(queryDesc);
	/* whatever the mode: a table a query uses is no longer unused */
	if (unlikely(unused_tables_any()) && !(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		unused_tables_note_query(queryDesc->plannedstmt->rtable);

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
held_locks_install(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = mg_ExecutorStart;
}
