/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Audit: one row in migration_guard.audit_log per judged statement.
 *
 * Statements that ran are recorded in their own transaction, by SPI, as
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
 * A statement that commits on its own (CONCURRENTLY, VACUUM) has done its
 * work once it returns, and a crash after that must not lose its row: the
 * worker commits the row before the statement runs, with no held_ms, and
 * fills in held_ms once it has finished.  A row without held_ms is
 * a statement that did not finish (an error, a cancel or a crash), whatever
 * it left behind (an INVALID index) included.
 *
 * Both paths write the row with audit_insert(), an INSERT prepared once
 * per backend with every value passed as a parameter, so that whatever the
 * DBA attached to the table (triggers, rules, constraints, indexes, row
 * security) applies as to any INSERT.  Statement text is never spliced
 * into SQL.
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
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "migration_guard.h"

/* How long a refused statement waits for a worker slot and its row */
#define AUDIT_WAIT_MS	5000

/* Statement text longer than this is cut (and flagged) */
#define AUDIT_STATEMENT_CAP	(64 * 1024)

/*
 * The INSERT, when the row cannot be written directly.  Its parameters have
 * the columns' own types
 * (audit_field_types), so that the executor evaluates no casts: building
 * and running 21 conversions from text cost more than the insert itself.
 * Only the verdict travels as text, to be read by the enum's input function.
 */
#define AUDIT_INSERT_SQL \
"INSERT INTO migration_guard.audit_log (logged_at, role_name, session_role," \
" application_name, client_addr, backend_pid, xid, command, statement," \
" statement_truncated, relation_oid, relation_name, lock_mode, table_bytes," \
" est_rows, rewrite, scan, rules, verdict, reason, lock_wait_ms, held_ms," \
" recipe, work_kind, work_bytes, reference_ms, predicted_ms) VALUES ($1, $2," \
" $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18," \
" $19::migration_guard.audit_verdict, $20, $21, $22, $23, $24, $25, $26, $27)"

/* the worker's: it tells the backend which row it wrote */
static const char *const audit_insert_returning_sql =
AUDIT_INSERT_SQL " RETURNING id";

/* the worker's, once a statement written before it ran has finished */
static const char *const audit_finish_sql =
"UPDATE migration_guard.audit_log SET held_ms = $2 WHERE id = $1";

static const Oid audit_field_types[AUDIT_NFIELDS] = {
	TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
	INETOID, INT4OID, XID8OID, TEXTOID, TEXTOID,
	BOOLOID, OIDOID, TEXTOID, TEXTOID,
	INT8OID, INT8OID, BOOLOID, BOOLOID,
	TEXTARRAYOID, TEXTOID, TEXTOID, FLOAT8OID, FLOAT8OID, TEXTOID,
	TEXTOID, INT8OID, FLOAT8OID, FLOAT8OID
};

static const char *const audit_field_names[AUDIT_NFIELDS] = {
	"logged_at", "role_name", "session_role", "application_name",
	"client_addr", "backend_pid", "xid", "command", "statement",
	"statement_truncated", "relation_oid", "relation_name", "lock_mode",
	"table_bytes", "est_rows", "rewrite", "scan", "rules", "verdict",
	"reason", "lock_wait_ms", "held_ms", "recipe", "work_kind", "work_bytes",
	"reference_ms", "predicted_ms"
};

/*
 * What the refusing backend hands to the worker, in a DSM segment: values
 * of by-value types as the Datum itself, the others in their type's text
 * form, read back by the type's input function.  Neither depends on the
 * session's settings (a timestamptz printed under DateStyle SQL, DMY would
 * be read back as another date).
 */
#define AUDIT_ERROR_LEN 512

typedef struct AuditShared
{
	Oid			dboid;
	Oid			owner;
	int64		finish_id;		/* the row to give its held_ms, or 0 */
	double		held_ms;		/* that time */
	int64		id;				/* set by the worker: the row written */
	bool		done;			/* set by the worker after COMMIT */
	char		error[AUDIT_ERROR_LEN];	/* or why it failed, if it did */
	int32		lens[AUDIT_NFIELDS];	/* -1 for NULL */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* values, back to back */
} AuditShared;

PGDLLEXPORT void mg_audit_worker_main(Datum main_arg);

static char *audit_value_text(AuditRow *row, int i);
static const char *audit_run_worker(AuditShared *sh, dsm_segment *seg);

/*
 * The audit table last found in this database, so that each judged
 * statement needs one syscache lookup instead of two scans of
 * pg_extension.  The row found under that OID must still be
 * migration_guard.audit_log: OIDs wrap around, and a long session could
 * meet another relation under the same OID.
 */
static Oid	audit_relid = InvalidOid;
static Oid	audit_nspid = InvalidOid;

/*
 * The owner of the audit table, who writes its rows, or InvalidOid when the
 * extension is not created in the current database (then nothing is
 * written).
 */
Oid
audit_table_owner(void)
{
	HeapTuple	tup;
	Oid			owner = InvalidOid;
	bool		from_cache = OidIsValid(audit_relid);

	if (!from_cache)
	{
		if (!OidIsValid(get_extension_oid("migration_guard", true)))
			return InvalidOid;
		audit_nspid = get_namespace_oid("migration_guard", true);
		if (OidIsValid(audit_nspid))
			audit_relid = get_relname_relid("audit_log", audit_nspid);
	}
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(audit_relid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

		if (cls->relnamespace == audit_nspid &&
			strcmp(NameStr(cls->relname), "audit_log") == 0)
			owner = cls->relowner;
		ReleaseSysCache(tup);
	}
	if (!OidIsValid(owner) && from_cache)
	{
		/* gone or not ours: the extension may have been created again */
		audit_relid = InvalidOid;
		return audit_table_owner();
	}
	if (!OidIsValid(owner))
		audit_relid = InvalidOid;
	return owner;
}

/* One text value of the row; a NULL pointer gives SQL NULL */
static void
set_text(AuditRow *row, int i, const char *str)
{
	row->nulls[i] = (str == NULL);
	row->values[i] = str ? CStringGetTextDatum(str) : (Datum) 0;
}

static void
set_datum(AuditRow *row, int i, Datum value)
{
	row->nulls[i] = false;
	row->values[i] = value;
}

/*
 * The row's values, in audit_field_types order.  Everything about the
 * session is taken here, in the backend that ran (or was refused) the
 * statement, never in the worker.
 */
void
audit_fill_row(AuditRow *row, Oid role, const char *command, const char *sql,
			   const Finding *main, List *rules, const char *verdict,
			   double lock_wait_ms, double held_ms)
{
	FullTransactionId fxid = GetTopFullTransactionIdIfAny();
	int			len = strlen(sql);
	int			i;
	Datum	   *names;
	int			nrules = 0;
	ListCell   *lc;
	LOCAL_FCINFO(fcinfo, 0);
	Datum		addr;

	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		row->values[i] = (Datum) 0;
		row->nulls[i] = true;
	}
	row->overridden = (strcmp(verdict, "overridden") == 0);

	set_datum(row, AF_LOGGED_AT, TimestampTzGetDatum(GetCurrentTimestamp()));
	set_text(row, AF_ROLE_NAME, GetUserNameFromId(role, false));
	set_text(row, AF_SESSION_ROLE,
			 GetUserNameFromId(GetSessionUserId(), false));
	set_text(row, AF_APPLICATION_NAME, application_name);
	/* inet_client_addr() is NULL over a Unix socket */
	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	addr = inet_client_addr(fcinfo);
	if (!fcinfo->isnull)
		set_datum(row, AF_CLIENT_ADDR, addr);
	set_datum(row, AF_BACKEND_PID, Int32GetDatum(MyProcPid));
	if (FullTransactionIdIsValid(fxid))
		set_datum(row, AF_XID, FullTransactionIdGetDatum(fxid));
	set_text(row, AF_COMMAND, command);
	if (len > AUDIT_STATEMENT_CAP)
		len = pg_mbcliplen(sql, len, AUDIT_STATEMENT_CAP);
	set_datum(row, AF_STATEMENT, PointerGetDatum(cstring_to_text_with_len(sql, len)));
	set_datum(row, AF_STATEMENT_TRUNCATED, BoolGetDatum(sql[len] != '\0'));
	if (main != NULL)
	{
		const RelEffect *eff = main->effect;

		if (OidIsValid(eff->relid))
			set_datum(row, AF_RELATION_OID, ObjectIdGetDatum(eff->relid));
		set_text(row, AF_RELATION_NAME, eff->relname);
		set_text(row, AF_LOCK_MODE, lock_mode_name(eff->lockmode));
		set_datum(row, AF_TABLE_BYTES, Int64GetDatum(main->size.bytes));
		set_datum(row, AF_EST_ROWS, Int64GetDatum(main->size.rows));
		set_datum(row, AF_REWRITE, BoolGetDatum(eff->rewrite));
		set_datum(row, AF_SCAN, BoolGetDatum(eff->scan));
		if (main->rule >= 0 && main->recipe != NULL)
			set_text(row, AF_RECIPE, main->recipe);
		if (main->hold.kind != WORK_NONE)
		{
			set_text(row, AF_WORK_KIND, work_kind_name(main->hold.kind));
			set_datum(row, AF_WORK_BYTES, Int64GetDatum(main->hold.bytes));
			set_datum(row, AF_REFERENCE_MS,
					  Float8GetDatum(main->hold.reference_ms));
			set_datum(row, AF_PREDICTED_MS,
					  Float8GetDatum(main->hold.predicted_ms));
		}
	}
	names = palloc(sizeof(Datum) * (list_length(rules) + 1));
	foreach(lc, rules)
		names[nrules++] = CStringGetTextDatum(rule_name(lfirst_int(lc)));
	set_datum(row, AF_RULES,
			  PointerGetDatum(construct_array(names, nrules, TEXTOID,
											  -1, false, TYPALIGN_INT)));
	set_text(row, AF_VERDICT, verdict);
	if (mg_reason && mg_reason[0] && row->overridden)
		set_text(row, AF_REASON, mg_reason);
	if (lock_wait_ms >= 0)
		set_datum(row, AF_LOCK_WAIT_MS, Float8GetDatum(lock_wait_ms));
	if (held_ms >= 0)
		set_datum(row, AF_HELD_MS, Float8GetDatum(held_ms));
}

/* One value in its type's text form, for the server log and the worker */
static char *
audit_value_text(AuditRow *row, int i)
{
	Oid			typoutput;
	bool		isvarlena;

	if (row->nulls[i])
		return NULL;
	getTypeOutputInfo(audit_field_types[i], &typoutput, &isvarlena);
	return OidOutputFunctionCall(typoutput, row->values[i]);
}

/*
 * The INSERT, prepared once per backend: parsing and planning it for every
 * DDL statement cost more than the insert itself.  The plan cache re-plans
 * it by itself if the table is dropped and created again.
 */
static SPIPlanPtr audit_insert_plan = NULL;

/*
 * The settings every audit insert runs under, whatever the session, role or
 * database set: it runs as the extension owner, and a trigger a DBA attached
 * to audit_log must not resolve an unqualified name through the caller's
 * search_path (an ordinary role could put its own pg_notify() first).
 * Returns the GUC nest level to close with AtEOXact_GUC().
 */
int
audit_pin_settings(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	/*
	 * The statement holds its locks on the user's table while its row is
	 * written: never wait longer than AUDIT_WAIT_MS for a lock on audit_log
	 * (the session's own lock_timeout if that is shorter).
	 */
	if (LockTimeout == 0 || LockTimeout > AUDIT_WAIT_MS)
		(void) set_config_option("lock_timeout", CppAsString2(AUDIT_WAIT_MS),
								 PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/* Says what failed when the row of a statement that ran cannot be written */
static void
audit_error_callback(void *arg)
{
	errcontext("recording the statement in migration_guard.audit_log; "
			   "the statement is undone with its transaction, so that nothing changes unrecorded");
}

/*
 * Write the row by the INSERT, through SPI (caller has set up user and
 * transaction).  SPI takes the snapshot the INSERT needs, also after a
 * statement that committed internally (CREATE INDEX CONCURRENTLY) left
 * none active.
 */
static void
audit_insert(AuditRow *row)
{
	char		nulls[AUDIT_NFIELDS];
	int			i;
	int			ret;

	for (i = 0; i < AUDIT_NFIELDS; i++)
		nulls[i] = row->nulls[i] ? 'n' : ' ';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (audit_insert_plan == NULL)
	{
		SPIPlanPtr	plan;

		/* SPI_prepare copies the types; it only lacks the const */
		plan = SPI_prepare(AUDIT_INSERT_SQL, AUDIT_NFIELDS,
						   (Oid *) audit_field_types);
		if (plan == NULL)
			elog(ERROR, "could not prepare audit insert: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep audit insert plan");
		audit_insert_plan = plan;
	}
	ret = SPI_execute_plan(audit_insert_plan, row->values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not insert audit row: SPI_execute_plan returned %d", ret);
	SPI_finish();
}

/*
 * The worker's write, in its own transaction: the row, returning its id,
 * or the held_ms of the row sh->finish_id.
 */
static void
audit_write_shared(AuditShared *sh, AuditRow *row)
{
	char		nulls[AUDIT_NFIELDS];
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (sh->finish_id != 0)
	{
		Oid			types[2] = {INT8OID, FLOAT8OID};
		Datum		values[2] = {Int64GetDatum(sh->finish_id),
		Float8GetDatum(sh->held_ms)};

		ret = SPI_execute_with_args(audit_finish_sql, 2, types, values,
									NULL, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "could not update audit row: SPI_execute_with_args returned %d", ret);
		sh->id = sh->finish_id;
	}
	else
	{
		bool		isnull;

		for (int i = 0; i < AUDIT_NFIELDS; i++)
			nulls[i] = row->nulls[i] ? 'n' : ' ';
		ret = SPI_execute_with_args(audit_insert_returning_sql, AUDIT_NFIELDS,
									(Oid *) audit_field_types, row->values,
									nulls, false, 0);
		if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "could not insert audit row: SPI_execute_with_args returned %d", ret);
		sh->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1,
											 &isnull));
	}
	SPI_finish();
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
	int			nestlevel;
	ErrorContextCallback errcallback;

	if (!OidIsValid(owner))
	{
		/* no audit table here, but an override must never pass unseen */
		if (row->overridden)
			audit_record_to_log(row, "The migration_guard extension is not created in this database.");
		return;
	}
	nestlevel = audit_pin_settings();
	errcallback.callback = audit_error_callback;
	errcallback.arg = NULL;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	audit_insert(row);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	error_context_stack = errcallback.previous;
	AtEOXact_GUC(true, nestlevel);
}

/* The row as one server-log line, for when it cannot be inserted */
void
audit_record_to_log(AuditRow *row, const char *why)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		char	   *value = audit_value_text(row, i);

		if (value == NULL)
			continue;
		/*
		 * Every value quoted, not only the free-text ones: a role or
		 * relation may be named "x verdict=ok" too.
		 */
		appendStringInfo(&buf, "%s%s=%s", buf.len ? " " : "",
						 audit_field_names[i], quote_literal_cstr(value));
	}
	ereport(LOG,
			(errcode(ERRCODE_WARNING),
			 errmsg("migration_guard audit: %s", buf.data),
			 errdetail_internal("%s", why),
			 errhidestmt(true)));
}

/*
 * A row that must not depend on this transaction: a refused statement's,
 * before the ERROR aborts it, or the row of a statement that commits on
 * its own or runs in a read-only transaction.  A background worker commits
 * it.  Returns NULL if the row is in the table (its id in *id, if id is
 * not NULL), else why not (the row then went to the server log).
 */
const char *
audit_record_durably(AuditRow *row, int64 *id)
{
	Oid			owner = audit_table_owner();
	Size		size = offsetof(AuditShared, data);
	dsm_segment *seg;
	AuditShared *sh;
	char	   *texts[AUDIT_NFIELDS];
	int32		lens[AUDIT_NFIELDS];
	char	   *p;
	int			i;
	const char *why = NULL;

	if (id != NULL)
		*id = 0;
	if (!OidIsValid(owner))
		why = "The migration_guard extension is not created in this database.";
	else if (RecoveryInProgress())
		why = "The server is in recovery.";
	if (why != NULL)
	{
		audit_record_to_log(row, why);
		return why;
	}

	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		texts[i] = NULL;
		if (row->nulls[i])
			lens[i] = -1;
		else if (get_typbyval(audit_field_types[i]))
			lens[i] = sizeof(Datum);
		else
		{
			texts[i] = audit_value_text(row, i);
			lens[i] = strlen(texts[i]);
		}
		size += Max(lens[i], 0);
	}
	seg = dsm_create(size, 0);
	sh = dsm_segment_address(seg);
	memset(sh, 0, offsetof(AuditShared, data));
	sh->dboid = MyDatabaseId;
	sh->owner = owner;
	p = sh->data;
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		sh->lens[i] = lens[i];
		if (lens[i] < 0)
			continue;
		memcpy(p, texts[i] ? (void *) texts[i] : (void *) &row->values[i],
			   lens[i]);
		p += lens[i];
	}

	why = audit_run_worker(sh, seg);
	if (why != NULL)
		audit_record_to_log(row, why);
	else if (id != NULL)
		*id = sh->id;
	dsm_detach(seg);
	return why;
}

/*
 * The held_ms of a statement whose row audit_record_durably() wrote before
 * it ran, now that it has finished; the row as it would now read goes to
 * the server log if the worker cannot write it.  Returns NULL or why not.
 */
const char *
audit_finish_durably(int64 id, double held_ms, AuditRow *row)
{
	dsm_segment *seg;
	AuditShared *sh;
	const char *why;

	seg = dsm_create(offsetof(AuditShared, data), 0);
	sh = dsm_segment_address(seg);
	memset(sh, 0, offsetof(AuditShared, data));
	sh->dboid = MyDatabaseId;
	sh->owner = audit_table_owner();
	sh->finish_id = id;
	sh->held_ms = held_ms;
	for (int i = 0; i < AUDIT_NFIELDS; i++)
		sh->lens[i] = -1;

	why = OidIsValid(sh->owner) ? audit_run_worker(sh, seg) :
		"The migration_guard extension is not created in this database.";
	if (why != NULL)
	{
		set_datum(row, AF_HELD_MS, Float8GetDatum(held_ms));
		audit_record_to_log(row, why);
	}
	dsm_detach(seg);
	return why;
}

/*
 * Start a worker on the segment and wait until it has exited, AUDIT_WAIT_MS
 * at most.  Returns NULL once it has committed, else why not.
 */
static const char *
audit_run_worker(AuditShared *sh, dsm_segment *seg)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	TimestampTz deadline;

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
			return "No background worker slot was free (max_worker_processes).";
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
	if (sh->done)
		return NULL;
	TerminateBackgroundWorker(handle);
	if (sh->error[0] != '\0')
		return psprintf("The audit writer failed: %s.",
						pnstrdup(sh->error, AUDIT_ERROR_LEN - 1));
	return "The audit writer did not commit the row in time.";
}

/*
 * Background worker: write one row (or one finished statement's held_ms)
 * and commit.
 */
void
mg_audit_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	AuditShared *sh;
	AuditRow	row;
	char	   *p;
	int			i;
	MemoryContext cxt;

	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		proc_exit(1);			/* the backend gave up already */
	sh = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(sh->dboid, sh->owner, 0);

	/*
	 * The database's and the owner's settings came with the connection: the
	 * ones that would stop the row are pinned (a database made read-only by
	 * default, a short statement_timeout); never wait longer than the
	 * refused backend does.
	 */
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET,
					PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", CppAsString2(AUDIT_WAIT_MS), PGC_SUSET,
					PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();

	/* the values back, in this transaction (input functions) */
	memset(&row, 0, sizeof(row));
	p = sh->data;
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		row.nulls[i] = (sh->lens[i] < 0);
		if (sh->lens[i] < 0)
			continue;
		if (get_typbyval(audit_field_types[i]))
			memcpy(&row.values[i], p, sizeof(Datum));
		else
		{
			Oid			typinput;
			Oid			typioparam;

			getTypeInputInfo(audit_field_types[i], &typinput, &typioparam);
			row.values[i] = OidInputFunctionCall(typinput,
												 pnstrdup(p, sh->lens[i]),
												 typioparam, -1);
		}
		p += sh->lens[i];
	}
	cxt = CurrentMemoryContext;
	PG_TRY();
	{
		int			nestlevel = audit_pin_settings();

		PushActiveSnapshot(GetTransactionSnapshot());
		(void) audit_table_owner();	/* finds audit_relid in this process */
		audit_write_shared(sh, &row);
		PopActiveSnapshot();
		AtEOXact_GUC(true, nestlevel);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		/* the refused backend tells its client why, and logs the row */
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();

		strlcpy(sh->error, edata->message, AUDIT_ERROR_LEN);
		pg_write_barrier();
		PG_RE_THROW();
	}
	PG_END_TRY();

	sh->done = true;
	pg_write_barrier();
	dsm_detach(seg);
	proc_exit(0);
}
