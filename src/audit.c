/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Audit: one row in migration_guard.audit_log per judged statement.
 *
 * Statements that ran are recorded in their own transaction, directly, as
 * the extension's owner: a migration that rolls back leaves no row.
 *
 * A refused statement's transaction is about to abort, so its row is
 * written by a dynamic background worker that inserts it in a transaction
 * of its own while the refusing backend waits, for AUDIT_WAIT_MS at most.
 * The worker gives up on locks after the same time, so a transaction that
 * holds a lock on the audit table cannot make the two wait on each other.
 * If no worker could be started, or it did not finish, the row goes to the
 * server log instead and the client is told so.
 *
 * Both paths write the row with the same function, audit_insert(), each
 * value through its column's input function: statement text is never
 * spliced into SQL.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/audit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "rewrite/rewriteHandler.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "migration_guard.h"

/* How long a refused statement waits for a worker slot and its row */
#define AUDIT_WAIT_MS	5000

/* Statement text longer than this is cut (and flagged) */
#define AUDIT_STATEMENT_CAP	(64 * 1024)

/* The row's columns, in AuditRow order; each value is text for its input function */
static const char *const audit_field_names[AUDIT_NFIELDS] = {
	"logged_at", "role_name", "session_role", "application_name",
	"client_addr", "backend_pid", "xid", "command", "statement",
	"statement_truncated", "relation_oid", "relation_name", "lock_mode",
	"table_bytes", "est_rows", "rewrite", "scan", "rules", "verdict",
	"reason", "duration_ms"
};

/* What the refusing backend hands to the worker, in a DSM segment */
typedef struct AuditShared
{
	Oid			dboid;
	Oid			owner;
	bool		done;			/* set by the worker after COMMIT */
	int32		lens[AUDIT_NFIELDS];	/* -1 for NULL */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* values, back to back */
} AuditShared;

PGDLLEXPORT void mg_audit_worker_main(Datum main_arg);

static void audit_log_line(AuditRow *row, const char *why);

/*
 * The audit table last found in this database, so that each judged
 * statement needs one syscache lookup instead of two scans of
 * pg_extension.  An OID is not reused while the session lives, so a table
 * still found under it is still the extension's.
 */
static Oid	audit_relid = InvalidOid;
static Oid	audit_seqid = InvalidOid;	/* its id column's sequence */

/*
 * The owner of the audit table, who writes its rows, or InvalidOid when the
 * extension is not created in the current database (then nothing is
 * written).
 */
static Oid
audit_table_owner(void)
{
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	if (!OidIsValid(audit_relid))
	{
		Oid			nspid;

		if (!OidIsValid(get_extension_oid("migration_guard", true)))
			return InvalidOid;
		nspid = get_namespace_oid("migration_guard", true);
		if (OidIsValid(nspid))
			audit_relid = get_relname_relid("audit_log", nspid);
		if (OidIsValid(audit_relid))
		{
			List	   *seqs = getOwnedSequences(audit_relid);

			audit_seqid = seqs != NIL ? linitial_oid(seqs) : InvalidOid;
		}
	}
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(audit_relid));
	if (HeapTupleIsValid(tup))
	{
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	else
		audit_relid = InvalidOid;	/* dropped: look again next time */
	return owner;
}

/* inet_client_addr(), as text; NULL over a Unix socket */
static char *
client_address(void)
{
	LOCAL_FCINFO(fcinfo, 0);
	Datum		addr;

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	addr = inet_client_addr(fcinfo);
	if (fcinfo->isnull)
		return NULL;
	return DatumGetCString(DirectFunctionCall1(inet_out, addr));
}

static char *
bool_text(bool b)
{
	return pstrdup(b ? "true" : "false");
}

/*
 * The row's values as text, in audit_field_names order; NULL for SQL NULL.
 * Everything about the session is taken here, in the backend that ran (or
 * was refused) the statement, never in the worker.
 */
void
audit_fill_row(AuditRow *row, const char *command, const char *sql,
			   const Finding *main, List *rules, const char *verdict,
			   double duration_ms)
{
	char	  **v = row->values;
	FullTransactionId fxid = GetTopFullTransactionIdIfAny();
	int			len = strlen(sql);
	StringInfoData buf;
	ListCell   *lc;

	memset(v, 0, sizeof(row->values));
	v[0] = pstrdup(timestamptz_to_str(GetCurrentTimestamp()));
	v[1] = GetUserNameFromId(GetUserId(), false);
	v[2] = GetUserNameFromId(GetSessionUserId(), false);
	v[3] = application_name ? pstrdup(application_name) : NULL;
	v[4] = client_address();
	v[5] = psprintf("%d", MyProcPid);
	if (FullTransactionIdIsValid(fxid))
		v[6] = psprintf(UINT64_FORMAT, U64FromFullTransactionId(fxid));
	v[7] = pstrdup(command);
	if (len > AUDIT_STATEMENT_CAP)
		len = pg_mbcliplen(sql, len, AUDIT_STATEMENT_CAP);
	v[8] = pnstrdup(sql, len);
	v[9] = bool_text(sql[len] != '\0');
	if (main != NULL)
	{
		const RelEffect *eff = main->effect;

		if (OidIsValid(eff->relid))
			v[10] = psprintf("%u", eff->relid);
		v[11] = pstrdup(eff->relname);
		v[12] = pstrdup(lock_mode_name(eff->lockmode));
		v[13] = psprintf(INT64_FORMAT, main->size.bytes);
		v[14] = psprintf(INT64_FORMAT, main->size.rows);
		v[15] = bool_text(eff->rewrite);
		v[16] = bool_text(eff->scan);
	}
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	foreach(lc, rules)
		appendStringInfo(&buf, "%s%s", buf.len > 1 ? "," : "",
						 rule_name(lfirst_int(lc)));
	appendStringInfoChar(&buf, '}');
	v[17] = buf.data;
	v[18] = pstrdup(verdict);
	if (mg_reason && mg_reason[0] && strcmp(verdict, "overridden") == 0)
		v[19] = pstrdup(mg_reason);
	if (duration_ms >= 0)
		v[20] = psprintf("%.3f", duration_ms);
}

/*
 * Write one row into the audit table, the way logical replication's apply
 * writes its rows: each value through its column's input function, the id
 * from the table's sequence, then the heap and its indexes.  Not through an
 * INSERT statement: starting an executor for one row cost more than the
 * row (and its CHECK constraint was parsed again each time).  Both paths
 * use it: the backend for statements that ran, the worker for refusals.
 * Defaults, generated columns and constraints apply as to an INSERT;
 * triggers on the table do not fire.  The caller has set up the user and
 * the transaction.
 */
static void
audit_insert(char **values)
{
	Relation	rel;
	TupleDesc	desc;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	int			i;

	if (!OidIsValid(audit_table_owner()))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"migration_guard.audit_log\" does not exist")));
	rel = table_open(audit_relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
	ExecClearTuple(slot);

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *value = NULL;
		bool		ours = false;
		int			f;

		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
		if (att->attisdropped || att->attgenerated)
			continue;
		for (f = 0; f < AUDIT_NFIELDS; f++)
		{
			if (strcmp(NameStr(att->attname), audit_field_names[f]) == 0)
			{
				value = values[f];
				ours = true;
				break;
			}
		}
		if (value != NULL)
		{
			Oid			typinput;
			Oid			typioparam;

			getTypeInputInfo(att->atttypid, &typinput, &typioparam);
			slot->tts_values[i] = OidInputFunctionCall(typinput, (char *) value,
													   typioparam, att->atttypmod);
			slot->tts_isnull[i] = false;
		}
		else if (ours)
			continue;			/* SQL NULL */
		else if (strcmp(NameStr(att->attname), "id") == 0 && OidIsValid(audit_seqid))
		{
			slot->tts_values[i] = Int64GetDatum(nextval_internal(audit_seqid, true));
			slot->tts_isnull[i] = false;
		}
		else if (att->atthasdef)
		{
			/* a column the DBA added, with a default */
			Node	   *def = build_column_default(rel, i + 1);

			if (def != NULL)
				slot->tts_values[i] =
					ExecEvalExprSwitchContext(ExecPrepareExpr((Expr *) def, estate),
											  GetPerTupleExprContext(estate),
											  &slot->tts_isnull[i]);
		}
	}
	ExecStoreVirtualTuple(slot);
	if (desc->constr && desc->constr->has_generated_stored)
		ExecComputeStoredGenerated(rri, estate, slot, CMD_INSERT);
	/* NOT NULL, and any CHECK constraint a DBA added */
	if (desc->constr)
		ExecConstraints(rri, slot, estate);

	simple_table_tuple_insert(rel, slot);
	if (rri->ri_NumIndices > 0)
		(void) mg_insert_index_tuples(rri, slot, estate);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
}

/*
 * A statement that ran: insert its row in the current transaction, as the
 * extension owner, so that only the extension can write the table.
 */
void
audit_record_ran(AuditRow *row)
{
	Oid			owner = audit_table_owner();
	Oid			save_userid;
	int			save_sec_context;

	if (!OidIsValid(owner))
	{
		/* no audit table here, but an override must never pass unseen */
		if (strcmp(row->values[18], "overridden") == 0)
			audit_log_line(row, "The migration_guard extension is not created in this database.");
		return;
	}
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	audit_insert(row->values);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/* The row as one server-log line, for when it cannot be inserted */
static void
audit_log_line(AuditRow *row, const char *why)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		if (row->values[i] == NULL)
			continue;
		appendStringInfo(&buf, "%s%s=", buf.len ? " " : "", audit_field_names[i]);
		if (i == 8 || i == 11 || i == 3 || i == 19)
			appendStringInfoString(&buf, quote_literal_cstr(row->values[i]));
		else
			appendStringInfoString(&buf, row->values[i]);
	}
	ereport(LOG,
			(errcode(ERRCODE_WARNING),
			 errmsg("migration_guard audit: %s", buf.data),
			 errdetail_internal("%s", why),
			 errhidestmt(true)));
}

/*
 * A refused statement: have a background worker commit the row before the
 * ERROR aborts this transaction.  Returns NULL if the row is in the table,
 * else why not (the row then went to the server log).
 */
const char *
audit_record_blocked(AuditRow *row)
{
	Oid			owner = audit_table_owner();
	Size		size = offsetof(AuditShared, data);
	dsm_segment *seg;
	AuditShared *sh;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	char	   *p;
	int			i;
	TimestampTz deadline;
	const char *why = NULL;

	if (!OidIsValid(owner))
		why = "The migration_guard extension is not created in this database.";
	else if (RecoveryInProgress())
		why = "The server is in recovery.";
	if (why != NULL)
	{
		audit_log_line(row, why);
		return why;
	}

	for (i = 0; i < AUDIT_NFIELDS; i++)
		if (row->values[i])
			size += strlen(row->values[i]);
	seg = dsm_create(size, 0);
	sh = dsm_segment_address(seg);
	sh->dboid = MyDatabaseId;
	sh->owner = owner;
	sh->done = false;
	p = sh->data;
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		sh->lens[i] = row->values[i] ? strlen(row->values[i]) : -1;
		if (row->values[i])
		{
			memcpy(p, row->values[i], sh->lens[i]);
			p += sh->lens[i];
		}
	}

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "migration_guard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "mg_audit_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "migration_guard audit writer");
	snprintf(worker.bgw_type, BGW_MAXLEN, "migration_guard audit writer");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	/*
	 * Slots of workers that just exited are freed by the postmaster a little
	 * later: under a burst of refusals, retry until the deadline.
	 */
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), AUDIT_WAIT_MS);
	while (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		if (GetCurrentTimestamp() >= deadline)
		{
			dsm_detach(seg);
			why = "No background worker slot was free (max_worker_processes).";
			audit_log_line(row, why);
			return why;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	/*
	 * Wait until the worker has exited, not merely committed, so that its
	 * slot is free again for the next refusal.
	 */
	for (;;)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED ||
			GetCurrentTimestamp() >= deadline)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 20, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pg_read_barrier();
	if (!sh->done)
	{
		TerminateBackgroundWorker(handle);
		why = "The audit writer did not commit the row in time.";
		audit_log_line(row, why);
	}
	dsm_detach(seg);
	return why;
}

/*
 * Background worker: insert one refused statement's row and commit.
 */
void
mg_audit_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	AuditShared *sh;
	char	   *values[AUDIT_NFIELDS];
	char	   *p;
	int			i;

	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		proc_exit(1);			/* the backend gave up already */
	sh = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(sh->dboid, sh->owner, 0);

	p = sh->data;
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		values[i] = sh->lens[i] < 0 ? NULL : pnstrdup(p, sh->lens[i]);
		if (sh->lens[i] > 0)
			p += sh->lens[i];
	}

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* never wait longer than the refused backend does */
	SetConfigOption("lock_timeout", CppAsString2(AUDIT_WAIT_MS), PGC_SUSET,
					PGC_S_SESSION);
	PushActiveSnapshot(GetTransactionSnapshot());
	audit_insert(values);
	PopActiveSnapshot();
	CommitTransactionCommand();

	sh->done = true;
	pg_write_barrier();
	dsm_detach(seg);
	proc_exit(0);
}
