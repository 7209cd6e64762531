/*-------------------------------------------------------------------------
 *
 * first_lock.c
 *	  Take a statement's first lock before judging it, exactly as
 *	  PostgreSQL itself would take it, so that the verdict is about the
 *	  relation and the size the statement will run on.
 *
 * Without this, the hook resolves the name and measures the table without
 * a lock, and PostgreSQL then waits for its lock and resolves the name
 * again: a table that grew while the statement waited, or a name that a
 * concurrent transaction moved to another relation, ran with the verdict of
 * what was there before.  With the lock held, neither can happen: writers
 * wait, and the name is checked again after the judgement.
 *
 * The lock is the one PostgreSQL takes first for the statement, on the same
 * relation, in the same mode, through the same lookup
 * (RangeVarGetRelidExtended with the ownership callback), so PostgreSQL's
 * own request is a local hit afterwards: no lock is taken that the
 * statement would not take, and no new lock order, hence no new deadlock.
 * The families treated so are those whose verdict depends on the table's
 * size:
 *
 *	ALTER TABLE		AlterTableGetLockLevel(cmds) on the named relation
 *					(tcop/utility.c, AlterTableLookupRelation)
 *	CREATE INDEX	SHARE, or SHARE UPDATE EXCLUSIVE when CONCURRENTLY
 *					(tcop/utility.c, T_IndexStmt)
 *	REFRESH MATERIALIZED VIEW
 *					ACCESS EXCLUSIVE, or EXCLUSIVE when CONCURRENTLY
 *					(commands/matview.c, ExecRefreshMatView)
 *	REINDEX TABLE	SHARE (commands/indexcmds.c, ReindexTable)
 *
 * Renames and drops are judged on the name, not on a size, and REINDEX
 * INDEX locks the table inside its own lookup callback: they keep the
 * judgement before their lock.
 *
 * Not treated so, on purpose: ALTER TABLE ... DETACH PARTITION CONCURRENTLY,
 * VACUUM and CLUSTER, which commit internally and would release our lock
 * before taking their own; a statement PostgreSQL refuses before any lock
 * (CONCURRENTLY in a transaction block, any DDL in a read-only transaction
 * or in parallel mode), which keeps PostgreSQL's error and no wait of ours;
 * and ALTER TABLE naming a composite type, which PostgreSQL refuses in the
 * lookup itself.  Those are judged before their lock, as every statement
 * was before.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/first_lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/tablecmds.h"
#include "storage/lmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "migration_guard.h"

static bool detaches_concurrently(AlterTableStmt *stmt);
static bool names_partitioned(RangeVar *rv);
static void lookup_callback(const RangeVar *relation, Oid relid,
							Oid oldrelid, void *arg);

/*
 * Does this statement get its first lock taken before it is judged?  Fills
 * in which, when it does.
 */
bool
first_lock_of(Node *parsetree, ProcessUtilityContext context, FirstLock *fl)
{
	memset(fl, 0, sizeof(FirstLock));

	/* PostgreSQL refuses these before it takes any lock */
	if (XactReadOnly || IsInParallelMode())
		return false;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

				if (stmt->objtype != OBJECT_TABLE ||
					detaches_concurrently(stmt))
					return false;
				fl->rv = stmt->relation;
				fl->mode = AlterTableGetLockLevel(stmt->cmds);
				fl->check = RangeVarCallbackOwnsRelation;
				return true;
			}
		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) parsetree;

				if (stmt->concurrent)
				{
					/* what PreventInTransactionBlock() refuses */
					if (context != PROCESS_UTILITY_TOPLEVEL ||
						IsTransactionBlock() || IsSubTransaction())
						return false;
					fl->mode = ShareUpdateExclusiveLock;
				}
				else
					fl->mode = ShareLock;
				fl->rv = stmt->relation;
				fl->check = RangeVarCallbackOwnsRelation;
				return true;
			}
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *stmt = (RefreshMatViewStmt *) parsetree;

				fl->rv = stmt->relation;
				fl->mode = stmt->concurrent ? ExclusiveLock : AccessExclusiveLock;
				fl->check = mg_callback_maintains_table;
				return true;
			}
		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) parsetree;

				if (stmt->kind != REINDEX_OBJECT_TABLE)
					return false;
				/* CONCURRENTLY commits inside, and no size makes it refused */
				if (option_is_set(stmt->params, "concurrently"))
					return false;
				fl->rv = stmt->relation;
				fl->mode = ShareLock;
				fl->check = mg_callback_maintains_table;
				return true;
			}
		default:
			return false;
	}
}

/*
 * The statements PostgreSQL refuses inside a transaction block
 * (PreventInTransactionBlock), by the name its error gives them, or NULL
 */
const char *
outside_transaction_only(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_VacuumStmt:
			return ((VacuumStmt *) stmt)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_ClusterStmt:
			return ((ClusterStmt *) stmt)->relation == NULL ? "CLUSTER" : NULL;
		case T_IndexStmt:
			return ((IndexStmt *) stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) stmt)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) stmt;

				if (option_is_set(r->params, "concurrently"))
					return "REINDEX CONCURRENTLY";
				if (r->kind == REINDEX_OBJECT_SCHEMA)
					return "REINDEX SCHEMA";
				if (r->kind == REINDEX_OBJECT_SYSTEM)
					return "REINDEX SYSTEM";
				if (r->kind == REINDEX_OBJECT_DATABASE)
					return "REINDEX DATABASE";
				return NULL;
			}
		case T_AlterTableStmt:
			return detaches_concurrently((AlterTableStmt *) stmt) ?
				"ALTER TABLE ... DETACH CONCURRENTLY" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		default:
			return NULL;
	}
}

/*
 * Does this statement commit inside, so that its work is committed, or
 * partly committed, before it returns?  Its audit row is then written
 * before it runs (hook.c).  Only statements PostgreSQL runs at top level
 * outside a transaction block do (commands/vacuum.c, cluster.c,
 * indexcmds.c, tablecmds.c): those it refuses inside one, and besides them
 * ANALYZE of several tables, CLUSTER and REINDEX of a partitioned relation,
 * one transaction per table.  The rest run in the statement's transaction,
 * and their row is written in it.
 */
bool
commits_inside(Node *parsetree, ProcessUtilityContext context)
{
	if (context != PROCESS_UTILITY_TOPLEVEL ||
		IsTransactionBlock() || IsSubTransaction())
		return false;
	if (outside_transaction_only(parsetree) != NULL)
		return true;

	switch (nodeTag(parsetree))
	{
		case T_VacuumStmt:
			{
				VacuumStmt *stmt = (VacuumStmt *) parsetree;

				return list_length(stmt->rels) != 1 ||
					names_partitioned(((VacuumRelation *) linitial(stmt->rels))->relation);
			}
		case T_ClusterStmt:
			return names_partitioned(((ClusterStmt *) parsetree)->relation);
		case T_ReindexStmt:
			return names_partitioned(((ReindexStmt *) parsetree)->relation);
		default:
			return false;
	}
}

/* Does the name mean a partitioned table or index, as things stand? */
static bool
names_partitioned(RangeVar *rv)
{
	Oid			relid = rv ? RangeVarGetRelid(rv, NoLock, true) : InvalidOid;
	char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';

	return relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_PARTITIONED_INDEX;
}

/* DETACH ... CONCURRENTLY commits between its two locks */
static bool
detaches_concurrently(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		if (cmd->subtype == AT_DetachPartition &&
			((PartitionCmd *) cmd->def)->concurrent)
			return true;
	}
	return false;
}

/*
 * PostgreSQL's checks before it locks: ownership and system catalogs
 * (RangeVarCallbackOwnsRelation, also the first checks of ALTER TABLE's own
 * callback), or the kind of relation and the MAINTAIN privilege for
 * REFRESH and REINDEX.  A composite type is marked, not locked for long:
 * ALTER TABLE refuses it in its lookup.
 */
static void
lookup_callback(const RangeVar *relation, Oid relid, Oid oldrelid, void *arg)
{
	FirstLock  *fl = (FirstLock *) arg;

	fl->check(relation, relid, oldrelid, NULL);
	fl->refused = OidIsValid(relid) &&
		get_rel_relkind(relid) == RELKIND_COMPOSITE_TYPE;
}

/*
 * Take the first lock: at once if it is free (wait = false), or waiting for
 * it as PostgreSQL would (wait = true; the caller bounds the wait).  Sets
 * fl->relid to the locked relation, or InvalidOid with fl->busy telling
 * "somebody holds it" from "no such relation" (PostgreSQL's error is then
 * its own business).
 */
void
first_lock_take(FirstLock *fl, bool wait)
{
	int			flags = RVR_MISSING_OK | (wait ? 0 : RVR_SKIP_LOCKED);

	fl->busy = false;
	fl->refused = false;
	fl->relid = RangeVarGetRelidExtended(fl->rv, fl->mode, flags,
										 lookup_callback, fl);
	if (fl->refused && OidIsValid(fl->relid))
	{
		UnlockRelationOid(fl->relid, fl->mode);
		fl->relid = InvalidOid;
		return;
	}
	if (!OidIsValid(fl->relid) && !wait && !fl->refused)
		fl->busy = OidIsValid(RangeVarGetRelid(fl->rv, NoLock, true));
}

/*
 * Does the name still mean the relation we locked?  A transaction that
 * commits while we judge can move another relation in front of it on the
 * search_path, or rename it; PostgreSQL's own lookup would then find the
 * other one.
 */
bool
first_lock_moved(FirstLock *fl)
{
	AcceptInvalidationMessages();
	return RangeVarGetRelid(fl->rv, NoLock, true) != fl->relid;
}

/*
 * Give our lock back: the name moved, or the statement is refused and
 * should not hold the table while its refusal is recorded.  A lock that
 * the transaction held before the statement stays held (the count drops by
 * ours only).
 */
void
first_lock_release(FirstLock *fl)
{
	if (OidIsValid(fl->relid))
		UnlockRelationOid(fl->relid, fl->mode);
	fl->relid = InvalidOid;
}
