/*-------------------------------------------------------------------------
 *
 * relstats.c
 *	  Measure: what the catalog and the file system say about a relation,
 *	  found without taking or waiting for any lock on it.
 *
 * The guard runs before the statement has locked anything, and must never
 * queue behind a lock to make a decision.  So nothing here opens a relation:
 * sizes come from stat() on the relation's segment files (the way
 * pg_relation_size counts them), row counts from pg_class statistics, and
 * constraints from the syscache.  A relation dropped concurrently simply
 * measures as empty.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/relstats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_tablespace.h"
#include "commands/extension.h"
#include "common/relpath.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/bufpage.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/pgstat_internal.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/relmapper.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "migration_guard.h"

static bool rel_name_parts(Oid relid, char **nspname, char **relname);

/*
 * The directory of the last file we looked at, kept open so that each
 * stat() resolves one path component instead of three: with a thousand
 * partitions the kernel's path walk was most of the guard's time.  Valid
 * within one measure_relation() call only.
 */
static int	dir_fd = -1;
static char dir_path[MAXPGPATH];

static int
stat_relfile(const char *path, struct stat *st)
{
	const char *slash = strrchr(path, '/');
	size_t		dirlen = slash ? (size_t) (slash - path) : 0;

	if (slash == NULL || dirlen >= MAXPGPATH)
		return stat(path, st);
	if (dir_fd < 0 || strncmp(dir_path, path, dirlen) != 0 || dir_path[dirlen] != '\0')
	{
		if (dir_fd >= 0)
			close(dir_fd);
		memcpy(dir_path, path, dirlen);
		dir_path[dirlen] = '\0';
		dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | PG_BINARY);
		if (dir_fd < 0)
			return stat(path, st);
	}
	return fstatat(dir_fd, slash + 1, st, 0);
}

static void
close_relfile_dir(void)
{
	if (dir_fd >= 0)
		close(dir_fd);
	dir_fd = -1;
}

/*
 * Bytes on disk of a relation's main fork, described by its pg_class row,
 * summing its 1 GB segments; as in md.c, a segment shorter than RELSEG_SIZE
 * blocks is the last one.  A missing file (relation dropped meanwhile) is 0.
 */
static int64
main_fork_bytes(Oid relid, Form_pg_class cls)
{
	MgRelFile	rf;
	Oid			filenode = cls->relfilenode;
	Oid			spc = cls->reltablespace;
	char	   *path;
	int64		total = 0;
	int			segno;

	if (!RELKIND_HAS_STORAGE(cls->relkind) ||
		cls->relpersistence == RELPERSISTENCE_TEMP)
		return 0;
	if (!OidIsValid(filenode))
		filenode = mg_relmap_filenumber(relid, cls->relisshared);
	if (!OidIsValid(filenode))
		return 0;
	if (!OidIsValid(spc))
		spc = cls->relisshared ? GLOBALTABLESPACE_OID : MyDatabaseTableSpace;
	MG_RELFILE_SET(rf, spc, cls->relisshared ? InvalidOid : MyDatabaseId,
				   filenode);
	path = mg_relpath(rf, MAIN_FORKNUM);

	for (segno = 0;; segno++)
	{
		char		segpath[MAXPGPATH];
		struct stat st;

		if (segno == 0)
			snprintf(segpath, MAXPGPATH, "%s", path);
		else
			snprintf(segpath, MAXPGPATH, "%s.%d", path, segno);
		if (stat_relfile(segpath, &st) < 0)
			break;				/* ENOENT ends the segments; anything else: 0 */
		total += st.st_size;
		if (st.st_size < (off_t) RELSEG_SIZE * BLCKSZ)
			break;
	}
	pfree(path);
	return total;
}

/*
 * This backend's pending statistics for a table: the counts of committed
 * transactions not flushed yet, and the open transaction's own in ->trans.
 * The entry itself, not find_tabstat_entry(), which from 16 on returns a
 * palloc'd copy without ->trans.  NULL where this backend has none.
 */
static PgStat_TableStatus *
pending_table_status(Oid relid)
{
	PgStat_EntryRef *ref = pgstat_fetch_pending_entry(PGSTAT_KIND_RELATION,
													  MyDatabaseId, relid);

	return ref != NULL ? (PgStat_TableStatus *) ref->pending : NULL;
}

/*
 * The live tuples the cumulative statistics count for a table, with what
 * this backend inserted and deleted in committed transactions and has not
 * flushed yet (a backend flushes at most once a second, or when it exits):
 * a table loaded by this session counts whole at once.
 */
static int64
counted_live_tuples(Oid relid)
{
	PgStat_StatTabEntry *shared = pgstat_fetch_stat_tabentry(relid);
	PgStat_TableStatus *pending = pending_table_status(relid);
	int64		live = 0;

	if (shared != NULL)
		live += mg_tabentry_live_tuples(shared);
	if (pending != NULL)
		live += mg_tabstatus_delta_live_tuples(pending);
	return live;
}

/*
 * The same for the lock hold model (hold_time.c), with the current
 * transaction's inserts and deletes; and in *old_versions the rows it
 * updated or deleted, which an index build in it still reads.  Trusted
 * only where a VACUUM or ANALYZE has set the count since the statistics
 * were last reset (after a crash they count from nothing), else -1.
 */
static int64
statistics_live_rows(Oid relid, int64 *old_versions)
{
	PgStat_StatTabEntry *shared = pgstat_fetch_stat_tabentry(relid);
	PgStat_TableStatus *pending;
	int64		live;

	*old_versions = 0;
	if (shared == NULL || !mg_tabentry_maintained(shared))
		return -1;
	live = mg_tabentry_live_tuples(shared);
	pending = pending_table_status(relid);
	if (pending != NULL)
	{
		PgStat_TableXactStatus *trans;

		live += mg_tabstatus_delta_live_tuples(pending);
		for (trans = pending->trans; trans != NULL; trans = trans->upper)
		{
			live += trans->tuples_inserted - trans->tuples_deleted;
			*old_versions += trans->tuples_updated + trans->tuples_deleted;
		}
	}
	return Max(live, 0);
}

/*
 * Estimated rows of a leaf relation: pg_class density scaled to the current
 * size, as the planner does.  Where no VACUUM or ANALYZE ever set it (a
 * table just bulk-loaded), the live tuples the cumulative statistics have
 * counted for it; where those are missing too (statistics reset, or another
 * backend's load not flushed yet), from the block count and the average
 * width of the columns' types, which can be far off for text columns.
 */
static int64
class_rows(Oid relid, Form_pg_class cls, int64 bytes)
{
	double		pages = (double) bytes / BLCKSZ;
	int32		width = 0;
	int			attnum;
	int64		live;

	if (cls->reltuples >= 0 && cls->relpages > 0)
		return (int64) (cls->reltuples / cls->relpages * pages + 0.5);
	if (cls->reltuples >= 0 && pages == 0)
		return (int64) cls->reltuples;
	if (pages == 0)
		return 0;

	live = counted_live_tuples(relid);
	if (live > 0)
		return live;

	for (attnum = 1; attnum <= cls->relnatts; attnum++)
	{
		HeapTuple	atttup = SearchSysCache2(ATTNUM,
											 ObjectIdGetDatum(relid),
											 Int16GetDatum(attnum));

		if (HeapTupleIsValid(atttup))
		{
			Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(atttup);

			if (!att->attisdropped)
				width += get_typavgwidth(att->atttypid, att->atttypmod);
			ReleaseSysCache(atttup);
		}
	}
	width += MAXALIGN(SizeofHeapTupleHeader) + sizeof(ItemIdData);
	return (int64) (pages * (BLCKSZ - SizeOfPageHeaderData) / width);
}

/*
 * Data bytes and estimated rows of one relation (no recursion): the main
 * forks of the table and of its TOAST table, which is what a scan reads and
 * a rewrite copies.  Its free space map, visibility map and TOAST index are
 * left out: they are small beside the data, and each would cost another
 * stat() per partition.  False for a partitioned relation (it has no data
 * of its own) or one dropped meanwhile.
 */
static bool
measure_one(Oid relid, RelSize *size)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class cls;
	int64		bytes;

	if (!HeapTupleIsValid(tup))
		return false;			/* dropped concurrently */
	cls = (Form_pg_class) GETSTRUCT(tup);
	if (cls->relkind == RELKIND_PARTITIONED_TABLE ||
		cls->relkind == RELKIND_PARTITIONED_INDEX)
	{
		ReleaseSysCache(tup);
		return false;
	}

	bytes = main_fork_bytes(relid, cls);
	size->rows += class_rows(relid, cls, bytes);
	if (size->live_rows >= 0)
	{
		int64		old_versions;
		int64		live = statistics_live_rows(relid, &old_versions);

		size->live_rows = live >= 0 ? size->live_rows + live : -1;
		size->old_versions += old_versions;
	}
	if (OidIsValid(cls->reltoastrelid))
	{
		HeapTuple	ttup = SearchSysCache1(RELOID,
										   ObjectIdGetDatum(cls->reltoastrelid));

		if (HeapTupleIsValid(ttup))
		{
			int64		toast = main_fork_bytes(cls->reltoastrelid,
												(Form_pg_class) GETSTRUCT(ttup));

			bytes += toast;
			size->toast_bytes += toast;
			ReleaseSysCache(ttup);
		}
	}
	size->bytes += bytes;
	ReleaseSysCache(tup);
	return true;
}

/*
 * Size of a relation for the rules: heap plus TOAST data, and for a
 * partitioned table or index the sum over its leaf partitions (the parent
 * is empty).
 */
RelSize
measure_relation(Oid relid)
{
	RelSize		size = {0};
	char		relkind = get_rel_relkind(relid);

	size.live_rows = 0;			/* counted, unless a relation is not */
	if (relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_PARTITIONED_INDEX)
	{
		/* pg_inherits is read without locking the partitions */
		List	   *parts = find_all_inheritors(relid, NoLock, NULL);
		ListCell   *lc;

		foreach(lc, parts)
		{
			if (measure_one(lfirst_oid(lc), &size))
				size.partitions++;
		}
	}
	else if (relkind != '\0')
		measure_one(relid, &size);
	close_relfile_dir();
	return size;
}

/*
 * Can no other session see this relation?  True for temporary relations and
 * for relations created in the current transaction.
 *
 * The pg_class row's xmin is a cheap first test: a relation created in this
 * transaction has a row inserted by it.  The row is also rewritten by many
 * ALTERs of old relations, so the relcache entry has the final word.
 */
bool
rel_is_invisible_to_others(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		result = false;

	if (!HeapTupleIsValid(tup))
		return false;

	if (((Form_pg_class) GETSTRUCT(tup))->relpersistence == RELPERSISTENCE_TEMP)
		result = true;
	else if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
	{
		/*
		 * The relcache entry of a relation created in this transaction is
		 * already built (creating it did so) and cannot have been evicted,
		 * so this lookup does not read the relation itself.
		 */
		Relation	rel = RelationIdGetRelation(relid);

		if (RelationIsValid(rel))
		{
			result = rel->rd_createSubid != InvalidSubTransactionId;
			RelationClose(rel);
		}
	}
	ReleaseSysCache(tup);
	return result;
}

#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
/*
 * The name of the column's not-null constraint if it is NOT VALID, else
 * NULL: the safe way to make the column NOT NULL is then to validate that
 * one (another NOT NULL constraint on the column is refused).
 */
char *
rel_not_valid_not_null(Oid relid, const char *colname)
{
	AttrNumber	attnum = get_attnum(relid, colname);
	HeapTuple	nntup;
	char	   *name = NULL;

	if (attnum == InvalidAttrNumber)
		return NULL;
	nntup = findNotNullConstraintAttnum(relid, attnum);
	if (!HeapTupleIsValid(nntup))
		return NULL;
	if (!((Form_pg_constraint) GETSTRUCT(nntup))->convalidated)
		name = pstrdup(NameStr(((Form_pg_constraint) GETSTRUCT(nntup))->conname));
	heap_freetuple(nntup);
	return name;
}
#endif

/* Is this name one of the list's (String)? */
static bool
name_listed(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	return false;
}

/*
 * Would SET NOT NULL on this column skip its verification scan?  It does
 * when the column is already NOT NULL, or when the validated CHECK
 * constraints together imply "col IS NOT NULL" (tablecmds.c,
 * NotNullImpliedByRelConstraints).
 * A column we cannot find (added earlier in a check() script) is unproved.
 * also_validated names (String) unvalidated constraints that an earlier
 * statement of a check() script validates: they count as validated.
 */
bool
rel_not_null_proved(Oid relid, const char *colname, List *also_validated)
{
	HeapTuple	atttup;
	Form_pg_attribute att;
	NullTest   *nnulltest;
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	contup;
	List	   *checks = NIL;
	bool		proved;

	atttup = SearchSysCacheAttName(relid, colname);
	if (!HeapTupleIsValid(atttup))
		return false;
	att = (Form_pg_attribute) GETSTRUCT(atttup);
	if (att->attnotnull)
	{
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
		/*
		 * attnotnull is set for a NOT VALID not-null constraint too; SET NOT
		 * NULL then validates that constraint with a scan, whatever CHECKs
		 * prove, unless the constraint is only inherited: then it is merely
		 * made local (ATExecSetNotNull).
		 */
		HeapTuple	nntup = findNotNullConstraintAttnum(relid, att->attnum);
		Form_pg_constraint con;

		ReleaseSysCache(atttup);
		if (!HeapTupleIsValid(nntup))
			return true;
		con = (Form_pg_constraint) GETSTRUCT(nntup);
		proved = con->convalidated || !con->conislocal ||
			name_listed(also_validated, NameStr(con->conname));
		heap_freetuple(nntup);
		return proved;
#else
		ReleaseSysCache(atttup);
		return true;
#endif
	}

	nnulltest = makeNode(NullTest);
	nnulltest->arg = (Expr *) makeVar(1, att->attnum, att->atttypid,
									  att->atttypmod, att->attcollation, 0);
	nnulltest->nulltesttype = IS_NOT_NULL;
	nnulltest->argisrow = false;
	nnulltest->location = -1;
	ReleaseSysCache(atttup);

	/* Catalog scan: locks pg_constraint, never the user's table */
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(contup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(contup);
		Datum		conbin;
		bool		isnull;
		Node	   *cexpr;

		if (con->contype != CONSTRAINT_CHECK)
			continue;
		if (!con->convalidated &&
			!name_listed(also_validated, NameStr(con->conname)))
			continue;
		conbin = heap_getattr(contup, Anum_pg_constraint_conbin,
							  RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;

		/* The same normalisation PostgreSQL applies before proving */
		cexpr = stringToNode(TextDatumGetCString(conbin));
		cexpr = eval_const_expressions(NULL, cexpr);
		cexpr = (Node *) canonicalize_qual((Expr *) cexpr, true);
		checks = list_concat(checks, make_ands_implicit((Expr *) cexpr));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	/*
	 * Weak implication, as ConstraintImpliedByRelConstraint: a CHECK passes
	 * when it is NULL, so CHECK (col > 0) does not prove col IS NOT NULL.
	 */
	proved = predicate_implied_by(list_make1(nnulltest), checks, true);
	return proved;
}

/*
 * A relation's name as the user would write it in SQL: bare when visible in
 * the search_path, schema-qualified otherwise, quoted where needed.
 */
char *
rel_quoted_name(Oid relid)
{
	char	   *quoted;
	char	   *display;

	rel_names(relid, &quoted, &display);
	return quoted;
}

/*
 * Both that name and the one for messages, unquoted ('app.Order' rather
 * than app."Order"), from one lookup.
 */
void
rel_names(Oid relid, char **quoted, char **display)
{
	char	   *relname;
	char	   *nspname;

	if (!rel_name_parts(relid, &nspname, &relname))
	{
		*quoted = pstrdup("(dropped)");
		*display = pstrdup("(dropped)");
		return;
	}
	*quoted = nspname ? quote_qualified_identifier(nspname, relname) :
		pstrdup(quote_identifier(relname));
	*display = nspname ? psprintf("%s.%s", nspname, relname) : relname;
}

/*
 * A relation's name, and its schema's when it is not visible in the
 * search_path (*nspname NULL otherwise).  From one pg_class lookup, so that
 * a relation dropped meanwhile gives false rather than an error.
 */
static bool
rel_name_parts(Oid relid, char **nspname, char **relname)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class cls;

	if (!HeapTupleIsValid(tup))
		return false;
	cls = (Form_pg_class) GETSTRUCT(tup);
	*relname = pstrdup(NameStr(cls->relname));
	*nspname = NULL;

	/*
	 * An extension's script runs under its own search_path, not the one of
	 * the DBA who reads the message and pastes its SQL: qualify there.
	 */
	if (creating_extension || RelnameGetRelid(*relname) != relid)
	{
		char	   *nsp = get_namespace_name(cls->relnamespace);

		*nspname = nsp ? nsp : psprintf("%u", cls->relnamespace);
	}
	ReleaseSysCache(tup);
	return true;
}

/* "1234 MB" style, as pg_size_pretty writes it */
char *
format_bytes(int64 bytes)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(bytes))));
}

/*
 * Who holds a lock on this relation that conflicts with "mode", right now:
 * PostgreSQL's lock manager answers without our waiting (GetLockConflicts
 * reads the lock table under its partition locks), and the cumulative
 * statistics system says who each holder is and since when its transaction
 * runs.  Autovacuum is left out: a conflicting request cancels it (unless
 * it prevents wraparound, which is kept).
 */
List *
measure_lock_holders(Oid relid, LOCKMODE mode)
{
	LOCKTAG		tag;
	VirtualTransactionId *vxids;
	int			count;
	int			i;
	List	   *holders = NIL;
	TimestampTz now = GetCurrentTimestamp();

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	vxids = GetLockConflicts(&tag, mode, &count);
	if (count == 0)
		return NIL;

	/* the backend status snapshot is per transaction: take a fresh one */
	pgstat_clear_backend_activity_snapshot();

	for (i = 0; i < count; i++)
	{
		PGPROC	   *proc = mg_vxid_proc(vxids[i]);
		LockHolder *h;
		int			b;

		if (proc == NULL)
			continue;
		if ((proc->statusFlags & PROC_IS_AUTOVACUUM) &&
			!(proc->statusFlags & PROC_VACUUM_FOR_WRAPAROUND))
			continue;

		h = palloc0(sizeof(LockHolder));
		h->pid = proc->pid;
		h->xact_age_ms = -1;
		for (b = 1; b <= pgstat_fetch_stat_numbackends(); b++)
		{
			LocalPgBackendStatus *local = mg_local_beentry(b);
			PgBackendStatus *be;

			if (local == NULL || local->backendStatus.st_procpid != proc->pid)
				continue;
			be = &local->backendStatus;
			h->role = GetUserNameFromId(be->st_userid, true);
			h->application = pstrdup(be->st_appname ? be->st_appname : "");
			h->state = pstrdup(be->st_state == STATE_IDLEINTRANSACTION ? "idle in transaction" :
							   be->st_state == STATE_IDLEINTRANSACTION_ABORTED ?
							   "idle in transaction (aborted)" :
							   be->st_state == STATE_RUNNING ? "active" : "other");
			if (be->st_xact_start_timestamp != 0)
				h->xact_age_ms = (now - be->st_xact_start_timestamp) / 1000;
			/* pg_stat_activity's rule: own role's sessions, or pg_read_all_stats */
			if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS) &&
				!has_privs_of_role(GetUserId(), be->st_userid))
				h->query = pstrdup("<insufficient privilege>");
			else if (be->st_activity_raw)
				h->query = pgstat_clip_activity(be->st_activity_raw);
			break;
		}
		if (proc->pid == 0)
			h->state = pstrdup("prepared transaction");
		holders = lappend(holders, h);
	}
	return holders;
}
