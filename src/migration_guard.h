/*-------------------------------------------------------------------------
 *
 * migration_guard.h
 *	  Types shared by the stages of the guard: inspect, measure, judge, act.
 *
 * One DDL statement flows through the guard like this:
 *
 *	inspect.c	parse node -> list of RelEffect (lock, rewrite, scan, hazards)
 *	relstats.c	relation -> RelSize (bytes, estimated rows)
 *	rules.c		RelEffect + RelSize + settings -> list of Finding
 *	hook.c		Finding -> run, WARNING, or ERROR
 *
 * migration_guard.check() (check.c) runs the very same inspect/measure/judge
 * path over a script without executing it.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/migration_guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATION_GUARD_H
#define MIGRATION_GUARD_H

#include "pg_compat.h"
#include "port/atomics.h"

#include "catalog/namespace.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"
#include "storage/lockdefs.h"
#include "tcop/utility.h"
#include "utils/guc.h"

/* SQLSTATE of a statement refused by the guard (class MG: migration guard) */
#define ERRCODE_MG_STATEMENT_BLOCKED	MAKE_SQLSTATE('M','G','0','0','1')

/*---- Settings (GUCs, defined in migration_guard.c) ----*/

typedef enum GuardMode
{
	GUARD_MODE_OFF,
	GUARD_MODE_WARN,
	GUARD_MODE_ENFORCE
} GuardMode;

typedef enum AuditLevel
{
	AUDIT_OFF,
	AUDIT_FLAGGED,				/* statements where a rule fired */
	AUDIT_ALL					/* every judged statement */
} AuditLevel;

/*
 * Read by the hook's fast path on every utility statement: not looked up
 * through the global offset table, since nothing outside the library
 * refers to it.
 */
#ifdef __GNUC__
extern int	mg_mode __attribute__((visibility("hidden")));
#else
extern int	mg_mode;
#endif
extern int	mg_lock_timeout;	/* ms */
extern int	mg_lock_holder_age;	/* ms */
extern int	mg_audit;
extern char *mg_override_role;
extern int	mg_large_table_threshold;	/* in kB */
extern int	mg_max_lock_hold;	/* ms, 0: judge by size alone */
extern char *mg_allow;
extern char *mg_reason;

/*---- Rules ----*/

/*
 * Every hazard inspect.c can recognise is named after the rule that judges
 * it.  Keep this list, rule_defs[] in rules.c and the README in step.
 */
typedef enum RuleId
{
	RULE_CREATE_INDEX,
	RULE_DROP_INDEX,
	RULE_REINDEX,
	RULE_ADD_COLUMN_REWRITE,
	RULE_ALTER_COLUMN_TYPE,
	RULE_SET_NOT_NULL,
	RULE_ADD_CHECK,
	RULE_ADD_FOREIGN_KEY,
	RULE_ADD_UNIQUE_CONSTRAINT,
	RULE_REWRITE_TABLE,
	RULE_ATTACH_PARTITION,
	RULE_DETACH_PARTITION,
	RULE_REFRESH_MATVIEW,
	RULE_DROP_COLUMN,
	RULE_RENAME_COLUMN,
	RULE_RENAME_TABLE,
	RULE_DROP_TABLE,
	RULE_TRUNCATE,
	RULE_LOCK_QUEUE,
	RULE_EXCLUSIVE_LOCK_HELD,
	NUM_RULES
} RuleId;

typedef enum Verdict
{
	VERDICT_OK,
	VERDICT_WARN,
	VERDICT_BLOCK
} Verdict;

/*---- What inspect.c finds out about a statement ----*/

/*
 * One thing a statement does that a rule may object to, e.g. "adds column
 * x with a volatile default".  The text fields feed the messages and the
 * safe SQL in the HINT.
 */
typedef struct Hazard
{
	RuleId		rule;
	Node	   *cause;			/* the statement or ALTER TABLE subcommand */
	char	   *cause_sql;		/* its source text, when it could be cut out */
	char	   *subject;		/* column, index or constraint name, bare */
	char	   *why;			/* what makes it costly, one phrase */
	char	   *type_sql;		/* type of a new or changed column */
	char	   *expr_sql;		/* default, or partition bound as a CHECK */
	Oid			other_relid;	/* second relation involved, if any */
	bool		inline_column;	/* constraint written inside ADD COLUMN */
	bool		heap_only;		/* its work reads no value stored out of line */
	struct LockHolder *holder;	/* lock_queue: the oldest holder */
} Hazard;

/*
 * What one statement does to one relation.  A relation that is not found in
 * the catalog (dropped, or created earlier in a check() script) has relid
 * InvalidOid and is_new set.
 */
typedef struct RelEffect
{
	const char *command;		/* command tag, e.g. "ALTER TABLE" */
	Oid			relid;
	char	   *relname;		/* name as SQL: quoted, schema-qualified */
	char	   *display;		/* the same for messages, unquoted */
	const char *noun;			/* "table", "view", "sequence", "index"... */
	LOCKMODE	lockmode;		/* strongest lock the statement takes on it */
	bool		rewrite;		/* new relfilenode for it (or its partitions) */
	bool		scan;			/* reads every row while holding the lock */
	bool		is_new;			/* invisible to other sessions: never judged */
	bool		unused;			/* no session has used it since it was
								 * created (unused_tables.c): judged, let
								 * through, audited */
	bool		later_xact;		/* lockmode is taken in a later transaction of
								 * a statement that commits on its own, after
								 * waiting for every other user of the table */
	bool		nowait;			/* fails at once rather than wait (NOWAIT) */
	List	   *hazards;		/* list of Hazard * */
	List	   *holders;		/* LockHolder *: conflicting holders now */
	const char *stmt_sql;		/* the whole statement's text */
} RelEffect;

/* A transaction holding a lock that a guarded statement would wait for */
typedef struct LockHolder
{
	int			pid;			/* 0 for a prepared transaction */
	char	   *role;
	char	   *application;
	char	   *state;			/* active, idle in transaction, ... */
	int64		xact_age_ms;	/* -1 if unknown */
	char	   *query;			/* its current or last query */
} LockHolder;

/* Size of a relation, from the catalog and the file system, lock-free */
typedef struct RelSize
{
	int64		bytes;			/* heap + TOAST, partitions summed */
	int64		rows;			/* estimated */
	int64		live_rows;		/* live rows the statistics count, this
								 * transaction's included; -1 or 0 where not
								 * known (sizes given to check()) */
	int64		old_versions;	/* rows this transaction updated or deleted:
								 * an index build in it reads them still */
	int			partitions;		/* leaf partitions summed, 0 if not partitioned */
	int64		toast_bytes;	/* the TOAST tables' share of bytes, or what
								 * was left out of bytes (toast_left_out) */
	bool		toast_left_out; /* bytes is the heap alone: the work reads
								 * rows, not their out-of-line values */
} RelSize;

/*
 * Kinds of work a statement does under its lock, each with its own rate
 * (hold_time.c).  Their names are stable: the audit and
 * migration_guard.calibration keep them.
 */
typedef enum WorkKind
{
	WORK_NONE,
	WORK_REWRITE,
	WORK_INDEX_BTREE,
	WORK_INDEX_HASH,
	WORK_INDEX_GIST,
	WORK_INDEX_GIN,
	WORK_INDEX_SPGIST,
	WORK_INDEX_BRIN,
	WORK_VALIDATE,
	WORK_FK_VALIDATE,
	WORK_ATTACH_SCAN,
	WORK_REFRESH,
	NUM_WORK_KINDS
} WorkKind;

/*
 * What a B-tree build's sort costs per key, by the class of its first key
 * column (hold_time.c)
 */
typedef enum KeyClass
{
	KEY_FIXED,					/* fixed width: bigint, uuid, timestamptz */
	KEY_VARLENA,				/* variable width in byte order: text in "C" */
	KEY_COLLATED,				/* text sorted by a collation, or not known */
	NUM_KEY_CLASSES
} KeyClass;

/* How long a statement will hold its lock, and why we think so */
typedef struct HoldTime
{
	WorkKind	kind;			/* its main work, WORK_NONE if it does none */
	int64		bytes;			/* what that work reads */
	int64		rows;			/* the rows a rewrite copies, or the keys a
								 * B-tree build sorts */
	KeyClass	key_class;		/* those keys' class */
	bool		copies_blocks;	/* a rewrite that copies blocks, not rows
								 * (SET TABLESPACE) */
	double		work_ms;		/* that work's share of reference_ms */
	int			nindexes;		/* indexes it builds along (a rewrite) */
	int64		index_bytes;	/* what each of them reads */
	int64		index_rows;		/* and sorts, a B-tree */
	double		reference_ms;	/* at the reference rates */
	double		factor;			/* this server's time over the reference */
	double		predicted_ms;	/* reference_ms * factor */
	const char *source;			/* where the factor comes from, a phrase */
} HoldTime;

/* A rule's judgement of one hazard (or of a harmless effect: rule < 0) */
typedef struct Finding
{
	RelEffect  *effect;
	RelSize		size;
	int			rule;			/* RuleId, or -1 for "nothing to report" */
	Verdict		verdict;
	bool		allowed;		/* would block or warn, let through by allow */
	bool		unused;			/* would block or warn, let through: nobody
								 * has used the table yet */
	bool		override_denied;	/* allow named it, override_role refused */
	char	   *message;
	char	   *detail;
	char	   *hint;			/* the first safe step, and how to override */
	char	   *recipe;			/* every step of the safe way, one per line */
	HoldTime	hold;			/* how long it holds its lock (kind WORK_NONE
								 * if it does no work the model knows) */
} Finding;

/*
 * State of a check() script: relations created by earlier statements.  The
 * hook passes NULL.
 */
typedef struct ScriptState
{
	HTAB	   *created;		/* by relation name: a List of RangeVar * */
	HTAB	   *named;			/* every relation name an earlier statement
								 * made, renamed or moved: not unknown */
	HTAB	   *gone;			/* Oids of relations an earlier statement
								 * dropped or renamed away */
	HTAB	   *renamed;		/* new name -> Oid of a relation renamed */
	List	   *schemas;		/* String: schemas an earlier statement made */
	bool		made_functions; /* an earlier statement created a function */
	bool		opaque;			/* an earlier statement could have made any
								 * name (DO, CALL, CREATE EXTENSION, SELECT,
								 * RESET ALL) */
	List	   *held;			/* HeldLock *: ACCESS EXCLUSIVE taken so far */
	List	   *constraints;	/* ScriptConstraint *: added or validated */
	List	   *types;			/* ScriptType *: types created */
	List	   *columns;		/* ScriptColumn *: added to existing tables */
	HTAB	   *sizes;			/* relid -> sizes check() was given, or NULL
								 * (given_sizes.c) */
	struct GivenRates *rates;	/* the rates given with them, or NULL */
} ScriptState;

/*
 * The factors of the server the sizes come from, per WorkKind: a kind it
 * did not export has factor 0 (this server's own is used)
 */
typedef struct GivenRates
{
	double		factor[NUM_WORK_KINDS];
	char	   *source[NUM_WORK_KINDS];
} GivenRates;

/*
 * check.c: one statement of a dry run, as check_script() hands it on.
 * verdict is NULL for a statement judged (findings, NIL when there is
 * nothing to report), "error" or "unknown" with message, detail and hint.
 */
typedef struct ScriptRow
{
	int			stmtno;			/* 1-based, in the script */
	const char *command;		/* its command tag */
	int			line;			/* where it starts */
	int			column;
	Node	   *stmt;			/* its raw parse tree */
	const char *sql;			/* its text */
	const char *script;			/* the whole script: the parse tree's
								 * locations are offsets into it */
	const char *verdict;
	List	   *findings;		/* Finding * */
	const char *message;
	const char *detail;
	const char *hint;
} ScriptRow;

typedef void (*ScriptRowCallback) (const ScriptRow *row, void *arg);
extern void check_script(const char *script_sql, bool file, Datum sizes,
						 ScriptRowCallback emit, void *arg);

/* A type an earlier statement of a check() script created */
typedef struct ScriptType
{
	List	   *names;			/* its name, qualified as written */
	TypeName   *base;			/* a domain's base type, else NULL */
	bool		checked;		/* a domain with constraints */
} ScriptType;

/* A column an earlier statement of a check() script added to a table */
typedef struct ScriptColumn
{
	Oid			relid;
	char	   *colname;
	TypeName   *type;
} ScriptColumn;

/*
 * A CHECK, foreign key or (18) not-null constraint that an earlier
 * statement of a check() script added or validated: what a later VALIDATE reads, and what a later SET NOT NULL
 * may count as proof
 */
typedef struct ScriptConstraint
{
	Oid			relid;
	char	   *conname;		/* NULL if the script left it unnamed */
	char		contype;		/* CONSTR_CHECK, _FOREIGN or _NOTNULL */
	bool		in_catalog;		/* there before the script, validated by it */
	bool		validated;
	bool		not_enforced;	/* 18: CHECK or foreign key NOT ENFORCED */
	RangeVar   *pktable;		/* foreign key: the referenced table */
	List	   *columns;		/* String: the columns it proves NOT NULL */
} ScriptConstraint;

/* An ACCESS EXCLUSIVE lock on a large table, held by this transaction */
typedef struct HeldLock
{
	Oid			relid;
	char	   *relname;
	char	   *display;
	RelSize		size;
	bool		warned;			/* reported once per transaction */
} HeldLock;

/* inspect.c */
extern List *inspect_statement(Node *parsetree, const char *sql,
							   ScriptState *script);
extern void inspect_note_script(Node *parsetree, ScriptState *script);
extern char *inspect_script_create_error(Node *parsetree,
										 ScriptState *script);
extern void inspect_script_commit(ScriptState *script);

/* first_lock.c: the lock a statement takes first, taken before judging it */
typedef struct FirstLock
{
	RangeVar   *rv;				/* the name, as the statement gives it */
	LOCKMODE	mode;			/* the mode PostgreSQL takes first */
	RangeVarGetRelidCallback check; /* PostgreSQL's checks before it */
	Oid			relid;			/* what we hold it on, or InvalidOid */
	bool		busy;			/* not free right now: somebody holds it */
	bool		refused;		/* PostgreSQL refuses it in its lookup */
} FirstLock;

extern bool first_lock_of(Node *parsetree, ProcessUtilityContext context,
						  FirstLock *fl);
extern void first_lock_take(FirstLock *fl, bool wait);
extern bool first_lock_moved(FirstLock *fl);
extern void first_lock_release(FirstLock *fl);
extern bool commits_inside(Node *parsetree, ProcessUtilityContext context);
extern const char *outside_transaction_only(Node *stmt);

/* inspect.c: a DefElem option list (REINDEX, CLUSTER, VACUUM) sets this flag */
extern bool option_is_set(List *options, const char *name);

/* relstats.c */
extern RelSize measure_relation(Oid relid);

/* given_sizes.c */
extern HTAB *given_sizes_load(Datum sizes);
extern GivenRates *given_rates_load(Datum sizes);
extern RelSize given_or_measured_size(ScriptState *script, Oid relid,
									  bool *given);
extern List *measure_lock_holders(Oid relid, LOCKMODE mode);
extern bool rel_is_invisible_to_others(Oid relid);
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
extern char *rel_not_valid_not_null(Oid relid, const char *colname);
#endif
extern bool rel_not_null_proved(Oid relid, const char *colname,
								List *also_validated);
extern char *rel_quoted_name(Oid relid);
extern void rel_names(Oid relid, char **quoted, char **display);
extern char *format_bytes(int64 bytes);

/* unused_tables.c */
extern void unused_tables_install(void);
extern void unused_tables_note_created(Node *parsetree);
#ifdef __GNUC__
extern pg_atomic_uint32 *mg_unused_live __attribute__((visibility("hidden")));
#else
extern pg_atomic_uint32 *mg_unused_live;
#endif

/* Is any table in the set?  The test every query pays, inline */
static inline bool
unused_tables_any(void)
{
	return mg_unused_live != NULL && pg_atomic_read_u32(mg_unused_live) != 0;
}
extern void unused_tables_note_query(List *rtable);
extern void unused_tables_note_locked(LockStmt *stmt);
extern void unused_tables_forget_dropped(void);
extern void unused_tables_forget_database(Oid dbid);
extern bool unused_table(Oid relid);

/* held_locks.c */
extern void held_locks_note(List *findings, List **list);
extern HeldLock *held_locks_find(List *list, Oid relid);
extern bool held_lock_on(const ScriptState *script, Oid relid);
extern void held_locks_install(void);

/* migration_guard.c */
extern bool mg_error_ends_work(int sqlerrcode);
extern ErrorData *mg_in_subtransaction(void (*fn) (void *), void *arg,
									   bool rollback,
									   bool (*rethrow) (int sqlerrcode));

/* hold_time.c */
extern HoldTime predict_hold(const RelEffect *eff, const Hazard *hz,
							 const RelSize *work, const ScriptState *script);
extern const char *work_kind_name(WorkKind kind);
extern WorkKind work_kind_lookup(const char *name);
extern char *describe_hold(const HoldTime *ht);
extern char *format_ms(double ms);

/* rules.c */
extern const char *rule_name(int rule);
extern int	rule_lookup(const char *name);
extern List *judge_statement(Node *parsetree, const char *sql,
							 ScriptState *script);
extern Finding *judge_held_lock(HeldLock *held, const char *command);
extern char *describe_holders(List *holders);
extern const char *lock_mode_name(LOCKMODE mode);
extern const char *lock_mode_words(LOCKMODE mode);
extern bool allow_check_hook(char **newval, void **extra, GucSource source);
extern void allow_assign_hook(const char *newval, void *extra);

/* suggest.c */
extern char *suggest_safe_sql(const RelEffect *eff, const Hazard *hz);
extern List *suggest_recipe_steps(const char *recipe);
extern char *sql_cut_statement(const char *query, int location, int len);
extern List *sql_split_alter_cmds(const char *stmt_sql);
extern char *sql_constraint_definition(const char *cmd);
extern char *sql_clause_at(const char *script, int from, int to);
extern char *sql_after_name(const char *script, int location);
extern char *sql_insert_before_word(const char *sql, const char *word,
									int nth_after, const char *insert);
extern bool sql_cut_update(const char *sql, char **set_clause,
						   char **where_clause);

/*
 * audit.c: one row of migration_guard.audit_log, in its columns' types, in
 * the table's column order after "id"
 */
typedef enum AuditField
{
	AF_LOGGED_AT,
	AF_ROLE_NAME,
	AF_SESSION_ROLE,
	AF_APPLICATION_NAME,
	AF_CLIENT_ADDR,
	AF_BACKEND_PID,
	AF_XID,
	AF_COMMAND,
	AF_STATEMENT,
	AF_STATEMENT_TRUNCATED,
	AF_RELATION_OID,
	AF_RELATION_NAME,
	AF_LOCK_MODE,
	AF_TABLE_BYTES,
	AF_EST_ROWS,
	AF_REWRITE,
	AF_SCAN,
	AF_RULES,
	AF_VERDICT,					/* text in AuditRow, an enum in the table */
	AF_REASON,
	AF_LOCK_WAIT_MS,
	AF_HELD_MS,
	AF_RECIPE,
	AF_WORK_KIND,
	AF_WORK_BYTES,
	AF_REFERENCE_MS,
	AF_PREDICTED_MS
} AuditField;

#define AUDIT_NFIELDS (AF_PREDICTED_MS + 1)
typedef struct AuditRow
{
	Datum		values[AUDIT_NFIELDS];
	bool		nulls[AUDIT_NFIELDS];
	bool		overridden;		/* verdict is "overridden" */
} AuditRow;

extern void audit_fill_row(AuditRow *row, Oid role, const char *command,
						   const char *sql,
						   const Finding *main, List *rules,
						   const char *verdict, double lock_wait_ms,
						   double held_ms);
extern void audit_record_ran(AuditRow *row);
extern const char *audit_record_durably(AuditRow *row, int64 *id);
extern const char *audit_finish_durably(int64 id, double held_ms,
										AuditRow *row);
extern void audit_record_to_log(AuditRow *row, const char *why);
extern Oid	audit_table_owner(void);
extern int	audit_pin_settings(void);

/* ALTER TABLE ... VALIDATE CONSTRAINT (and its "Recurse" twin before 16) */
static inline bool
is_validate_cmd(const AlterTableCmd *cmd)
{
	return cmd->subtype == AT_ValidateConstraint
#ifdef MG_HAS_RECURSE_SUBTYPES
		|| cmd->subtype == AT_ValidateConstraintRecurse
#endif
		;
}

/* inspect_cascade.c: the object a DROP names, resolved without a lock */
extern Oid	drop_named_object(ObjectType type, Node *object, Oid *classid);

/* inspect_lock_only.c: what authorize.c checks the privileges on */
extern RangeVar *table_object_relation(List *names);
extern List *create_table_foreign_keys(CreateStmt *stmt);

/* authorize.c */
extern bool authorize_statement(Node *parsetree, bool raise);

/* hook.c */
extern void hook_install(void);
extern bool hook_judged_running(void);
extern void report_finding(const Finding *f);

#endif							/* MIGRATION_GUARD_H */
