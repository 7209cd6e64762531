/*-------------------------------------------------------------------------
 *
 * hold_time.c
 *	  Measure, in time: how long a statement will hold its lock, predicted
 *	  from the work it does under it and the rate of that work on this
 *	  server.
 *
 * Each kind of work (a rewrite, an index build of each access method, a
 * validation scan, a foreign key's validation, a partition's attach scan)
 * has a reference rate in bytes per second, measured on the reference
 * machine by test/bench/work_rates.sh.  A statement's reference time is
 * what it reads over those rates; a rewrite adds a cost per row it copies,
 * and the build of every index of the table; a B-tree build adds a cost
 * per key it sorts.  This server is faster or slower: its factor for a
 * kind is
 * measured time over reference time, the median of its recent statements of
 * that kind (the audit keeps both), or else of the last
 * migration_guard.calibrate(), or else 1.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/hold_time.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_database.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_type.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "migration_guard.h"

/* A statement's history counts once its work takes this long at reference rates */
#define HISTORY_MIN_REFERENCE_MS	50.0
/* How many recent statements of a kind the median is taken over */
#define HISTORY_WINDOW		20
/* and how many it needs */
#define HISTORY_MIN_SAMPLES	3

/*
 * How many of a kind's latest statements are read to find the superusers'
 * among them: the lookup stays a few index probes however long the audit
 * grows (a median over all of a million-row audit took 300 ms per DDL)
 */
#define HISTORY_SCAN		200

typedef struct WorkKindDef
{
	const char *name;			/* stable id: audit, calibration */
	const char *words;			/* for messages: "a rewrite of 75 MB" */
	double		reference_mb_s; /* MB (2^20 bytes) read per second */
} WorkKindDef;

/*
 * In WorkKind order.  Rates from test/bench/work_rates.sh on the reference
 * machine (docs/hold-time.md): 2 cores, PostgreSQL 15, default settings,
 * a SaaS-like table of 128 MB.
 */
static const WorkKindDef work_kinds[NUM_WORK_KINDS] = {
	{"none", "no work", 0},
	{"rewrite", "rewrite", 170},	/* its copy: rows below */
	{"index_btree", "B-tree index build", 2000}, /* its scan: keys below */
	{"index_hash", "hash index build", 250},
	{"index_gist", "GiST index build", 125},
	{"index_gin", "GIN index build", 45},
	{"index_spgist", "SP-GiST index build", 125},	/* not measured: GiST's */
	{"index_brin", "BRIN index build", 1400},
	{"validate", "validation scan", 2000},
	{"fk_validate", "foreign key validation", 1000},
	{"attach_scan", "partition constraint scan", 2000},
	{"refresh", "materialized view refresh", 170},	/* calibrate()'s: 176 */
};

/*
 * A B-tree build is mostly its sort, and a sort costs by keys, not by
 * bytes: 400,000 random text keys took as long to index whether their rows
 * were 190 or 490 bytes wide, two and a half times what 76 MB at a byte
 * rate said (docs/hold-time.md).  So a B-tree build is its heap scan at
 * index_btree's rate plus a cost per key, by the class of its first key
 * column, which decides nearly every comparison.  Nanoseconds per key on
 * the reference machine, keys in random order (test/bench/work_rates.sh).
 */
static const struct
{
	const char *words;			/* "400000 keys of collated text" */
	double		ns;
}			key_classes[NUM_KEY_CLASSES] = {
	{"fixed-width", 600},
	{"variable-width", 900},
	{"collated text", 1500},
};

/*
 * A rewrite, too, costs by rows as much as by bytes: it forms and WAL-logs
 * each row, and a column added to it computes its value for each row (the
 * volatile default that forced the rewrite, gen_random_uuid() most often:
 * 2.4 microseconds a call on the reference machine).  The same 32 MB of
 * rows of 60 bytes took 4.9 times as long to rewrite with a new
 * gen_random_uuid() column as rows of 960 bytes; changing a column's type
 * took 1.7 times as long (test/bench/work_rates.sh).  Nanoseconds a row.
 */
#define REWRITE_ROW_NS		200.0
#define ADDED_VALUE_ROW_NS	2800.0

/* Factors looked up once per transaction */
typedef struct KindFactor
{
	double		factor;
	const char *source;
} KindFactor;

static KindFactor factors[NUM_WORK_KINDS];

/* The factors this session last read: what a failed read falls back to */
static double last_read[NUM_WORK_KINDS];
static bool have_last_read = false;

/* The two queries, planned once per backend (planning cost 2 ms a DDL transaction) */
static SPIPlanPtr calibration_plan = NULL;
static SPIPlanPtr history_plan = NULL;
static LocalTransactionId factors_lxid = InvalidLocalTransactionId;
static MemoryContext factors_cxt = NULL;

const char *
work_kind_name(WorkKind kind)
{
	return (kind >= 0 && kind < NUM_WORK_KINDS) ? work_kinds[kind].name : NULL;
}

WorkKind
work_kind_lookup(const char *name)
{
	int			i;

	for (i = 1; i < NUM_WORK_KINDS; i++)
		if (strcmp(work_kinds[i].name, name) == 0)
			return (WorkKind) i;
	return WORK_NONE;
}

/* How long that work on that many bytes takes at the reference rate, in ms */
static double
reference_ms(WorkKind kind, int64 bytes)
{
	return bytes / (work_kinds[kind].reference_mb_s * 1048576.0) * 1000.0;
}

/* A rewrite's at the reference rates: its bytes and its rows, in ms */
static double
rewrite_reference_ms(int64 bytes, int64 rows, bool adds_value)
{
	return reference_ms(WORK_REWRITE, bytes) +
		rows * (REWRITE_ROW_NS + (adds_value ? ADDED_VALUE_ROW_NS : 0)) / 1000000.0;
}

/* A B-tree build's at the reference rates: its scan and its sort, in ms */
static double
btree_reference_ms(int64 heap_bytes, int64 keys, KeyClass kc)
{
	return reference_ms(WORK_INDEX_BTREE, heap_bytes) +
		keys * key_classes[kc].ns / 1000000.0;
}

/*
 * Does a collation sort in byte order?  From the catalog, as the server
 * decides it (libc's "C" and "POSIX", and the builtin provider of 17), so
 * that no locale library is loaded for a guess.
 */
static bool
collation_sorts_bytes(Oid collid)
{
	HeapTuple	tup;
	char		provider;
	Datum		d;
	bool		isnull;
	char	   *collate = NULL;

	if (collid == C_COLLATION_OID)
		return true;
	if (collid == DEFAULT_COLLATION_OID)
	{
		tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
		if (!HeapTupleIsValid(tup))
			return false;
		provider = ((Form_pg_database) GETSTRUCT(tup))->datlocprovider;
		d = SysCacheGetAttr(DATABASEOID, tup, Anum_pg_database_datcollate, &isnull);
	}
	else
	{
		tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));
		if (!HeapTupleIsValid(tup))
			return false;
		provider = ((Form_pg_collation) GETSTRUCT(tup))->collprovider;
		d = SysCacheGetAttr(COLLOID, tup, Anum_pg_collation_collcollate, &isnull);
	}
	if (!isnull)
		collate = TextDatumGetCString(d);
	ReleaseSysCache(tup);
	if (provider == 'b')		/* builtin: code point order */
		return true;
	return provider == COLLPROVIDER_LIBC && collate != NULL &&
		(strcmp(collate, "C") == 0 || strcmp(collate, "POSIX") == 0);
}

/*
 * The class of a sort key of that type in that collation.  A collation
 * that sorts in byte order compares as cheaply as bytea; any other
 * compares through the locale library.
 */
static KeyClass
key_class(Oid typid, Oid collid)
{
	if (!OidIsValid(typid))
		return KEY_COLLATED;	/* not known: the slowest */
	if (get_typlen(typid) > 0)
		return KEY_FIXED;
	if (OidIsValid(collid) && !collation_sorts_bytes(collid))
		return KEY_COLLATED;
	return KEY_VARLENA;
}

/*
 * The class of a column's values, by name (no lock: check() takes none),
 * in the collation written for it, if one is; its number in *attnum
 */
static KeyClass
column_key_class(Oid relid, const char *colname, List *collname,
				 AttrNumber *attnum)
{
	HeapTuple	tup;
	Oid			typid = InvalidOid;
	Oid			collid = InvalidOid;

	*attnum = InvalidAttrNumber;
	if (!OidIsValid(relid) || colname == NULL)
		return KEY_COLLATED;
	tup = SearchSysCacheAttName(relid, colname);
	if (HeapTupleIsValid(tup))
	{
		typid = ((Form_pg_attribute) GETSTRUCT(tup))->atttypid;
		collid = ((Form_pg_attribute) GETSTRUCT(tup))->attcollation;
		*attnum = ((Form_pg_attribute) GETSTRUCT(tup))->attnum;
		ReleaseSysCache(tup);
	}
	if (collname != NIL)
	{
		collid = get_collation_oid(collname, true);
		if (!OidIsValid(collid))
			return KEY_COLLATED;	/* PostgreSQL will say it does not exist */
	}
	return key_class(typid, collid);
}

/*
 * Do a column's values differ from row to row?  ANALYZE says so with a
 * negative n_distinct (a fraction of the rows); half of them or more, and
 * its comparisons rarely tie.
 */
static bool
nearly_unique(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup;
	bool		unique = false;

	if (attnum <= 0)
		return false;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(attnum), BoolGetDatum(false));
	if (HeapTupleIsValid(tup))
	{
		unique = ((Form_pg_statistic) GETSTRUCT(tup))->stadistinct <= -0.5;
		ReleaseSysCache(tup);
	}
	return unique;
}

/*
 * The class of a key of several columns: the first one's where its values
 * are nearly unique, since it then decides nearly every comparison; else
 * the slowest one's, since ties on the first fall through to the next
 * ((org_id, email) compares e-mails mostly)
 */
static KeyClass
combined_key_class(const KeyClass *classes, int n, Oid relid, AttrNumber first)
{
	KeyClass	kc = classes[0];
	int			i;

	if (n > 1 && !nearly_unique(relid, first))
		for (i = 1; i < n; i++)
			kc = Max(kc, classes[i]);
	return kc;
}

/*
 * The class of an existing index's keys: each column's type, or for an
 * expression its operator class's input type, in the index's collation
 */
static KeyClass
index_key_class(HeapTuple indextup)
{
	Form_pg_index idx = (Form_pg_index) GETSTRUCT(indextup);
	KeyClass	classes[INDEX_MAX_KEYS] = {0};
	oidvector  *collations = NULL;
	oidvector  *opclasses = NULL;
	Datum		d;
	bool		isnull;
	int			i;

	if (idx->indnkeyatts < 1)
		return KEY_COLLATED;
	d = SysCacheGetAttr(INDEXRELID, indextup, Anum_pg_index_indcollation, &isnull);
	if (!isnull)
		collations = (oidvector *) DatumGetPointer(d);
	d = SysCacheGetAttr(INDEXRELID, indextup, Anum_pg_index_indclass, &isnull);
	if (!isnull)
		opclasses = (oidvector *) DatumGetPointer(d);
	for (i = 0; i < idx->indnkeyatts && i < INDEX_MAX_KEYS; i++)
	{
		Oid			typid = InvalidOid;
		Oid			collid = collations ? collations->values[i] : InvalidOid;

		if (idx->indkey.values[i] != 0)
			typid = get_atttype(idx->indrelid, idx->indkey.values[i]);
		else if (opclasses != NULL)
		{
			/* not get_opclass_input_type(): it errors on a dropped one */
			HeapTuple	optup = SearchSysCache1(CLAOID,
												ObjectIdGetDatum(opclasses->values[i]));

			if (HeapTupleIsValid(optup))
			{
				typid = ((Form_pg_opclass) GETSTRUCT(optup))->opcintype;
				ReleaseSysCache(optup);
			}
		}
		classes[i] = key_class(typid, collid);
	}
	return combined_key_class(classes, i, idx->indrelid, idx->indkey.values[0]);
}

/* The type a column is added with: serial is int, and so on */
static Oid
added_column_type(const ColumnDef *def, Oid *collid)
{
	TypeName   *tn = def->typeName;
	Type		typ;
	Oid			typid;

	*collid = InvalidOid;
	if (tn == NULL)
		return InvalidOid;
	if (list_length(tn->names) == 1 && tn->arrayBounds == NIL)
	{
		const char *name = strVal(linitial(tn->names));

		if (strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0)
			return INT2OID;
		if (strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0)
			return INT4OID;
		if (strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0)
			return INT8OID;
	}
	typ = LookupTypeName(NULL, tn, NULL, true);
	if (typ == NULL)
		return InvalidOid;
	typid = typeTypeId(typ);
	*collid = ((Form_pg_type) GETSTRUCT(typ))->typcollation;
	ReleaseSysCache(typ);
	if (def->collClause != NULL)
		*collid = get_collation_oid(def->collClause->collname, true);
	return typid;
}

/*
 * The class of the keys a new B-tree sorts, from the raw statement: a
 * column's type and collation, or the slowest for an expression, whose type
 * the raw statement does not say
 */
static KeyClass
new_index_key_class(const RelEffect *eff, const Node *cause)
{
	KeyClass	classes[INDEX_MAX_KEYS] = {0};
	AttrNumber	first = InvalidAttrNumber;
	int			n = 0;
	ListCell   *lc;

	if (cause != NULL && IsA(cause, IndexStmt))
	{
		foreach(lc, ((IndexStmt *) cause)->indexParams)
		{
			IndexElem  *elem = lfirst_node(IndexElem, lc);
			AttrNumber	attnum = InvalidAttrNumber;

			if (n == INDEX_MAX_KEYS)
				break;
			classes[n] = elem->name != NULL ?
				column_key_class(eff->relid, elem->name, elem->collation, &attnum) :
				KEY_COLLATED;
			if (n++ == 0)
				first = attnum;
		}
	}
	else if (cause != NULL && IsA(cause, Constraint))
	{
		foreach(lc, ((Constraint *) cause)->keys)
		{
			AttrNumber	attnum;

			if (n == INDEX_MAX_KEYS)
				break;
			classes[n] = column_key_class(eff->relid, strVal(lfirst(lc)), NIL, &attnum);
			if (n++ == 0)
				first = attnum;
		}
	}
	else if (cause != NULL && IsA(cause, ColumnDef))
	{
		Oid			collid;
		Oid			typid = added_column_type((ColumnDef *) cause, &collid);

		return key_class(typid, collid);
	}
	if (n == 0)
		return KEY_COLLATED;
	return combined_key_class(classes, n, eff->relid, first);
}

/* Milliseconds as a person says them: "40 ms", "1.2 s", "14 s", "3 min" */
char *
format_ms(double ms)
{
	if (ms < 1)
		return pstrdup("less than 1 ms");
	if (ms < 1000)
		return psprintf("%.0f ms", ms);
	if (ms < 10000)
		return psprintf("%.1f s", ms / 1000);
	if (ms < 120000)
		return psprintf("%.0f s", ms / 1000);
	return psprintf("%.0f min", ms / 60000);
}

/* The kind of building an index of that access method */
static WorkKind
index_kind(Oid amoid, const char *amname)
{
	if (amname == NULL && OidIsValid(amoid))
		amname = get_am_name(amoid);
	if (amname == NULL || strcmp(amname, "btree") == 0)
		return WORK_INDEX_BTREE;
	if (strcmp(amname, "hash") == 0)
		return WORK_INDEX_HASH;
	if (strcmp(amname, "gist") == 0)
		return WORK_INDEX_GIST;
	if (strcmp(amname, "gin") == 0)
		return WORK_INDEX_GIN;
	if (strcmp(amname, "spgist") == 0)
		return WORK_INDEX_SPGIST;
	if (strcmp(amname, "brin") == 0)
		return WORK_INDEX_BRIN;
	return WORK_INDEX_GIST;		/* an extension's: assume the slow kind */
}

/* The access method of a relation, from the syscache: no lock */
static Oid
rel_am(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			am = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		am = ((Form_pg_class) GETSTRUCT(tup))->relam;
		ReleaseSysCache(tup);
	}
	return am;
}

/*
 * The indexes of a table, from pg_index (the table is not opened: check()
 * takes no lock on it).  Adds each one's reference time for heap bytes
 * and, for a B-tree, its keys.
 */
static double
indexes_reference_ms(Oid relid, int64 heap_bytes, int64 rows, int *count)
{
	Relation	pg_index;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	double		ms = 0;

	*count = 0;
	if (!OidIsValid(relid))
		return 0;
	pg_index = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_index, IndexIndrelidIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);
		WorkKind	kind = index_kind(rel_am(idx->indexrelid), NULL);

		if (kind == WORK_INDEX_BTREE)
			ms += btree_reference_ms(heap_bytes, rows, index_key_class(tup));
		else
			ms += reference_ms(kind, heap_bytes);
		(*count)++;
	}
	systable_endscan(scan);
	table_close(pg_index, AccessShareLock);
	return ms;
}

/* What a hazard's work does besides its kind */
typedef struct WorkShape
{
	bool		with_indexes;	/* builds every index of the table along */
	bool		adds_value;		/* computes a new column's value per row */
	bool		copies_blocks;	/* SET TABLESPACE: no rows, no indexes */
	Oid			indexid;		/* REINDEX INDEX: the index */
} WorkShape;

/* The kind of work a hazard does, or WORK_NONE, and its shape */
static WorkKind
hazard_kind(const RelEffect *eff, const Hazard *hz, WorkShape *shape)
{
	memset(shape, 0, sizeof(WorkShape));
	switch (hz->rule)
	{
		case RULE_ADD_COLUMN_REWRITE:
			shape->adds_value = true;
			shape->with_indexes = true;
			return WORK_REWRITE;
		case RULE_REWRITE_TABLE:
			if (hz->cause != NULL && IsA(hz->cause, AlterTableCmd) &&
				((AlterTableCmd *) hz->cause)->subtype == AT_SetTableSpace)
				shape->copies_blocks = true;
			else
				shape->with_indexes = true;
			return WORK_REWRITE;
		case RULE_ALTER_COLUMN_TYPE:
			shape->with_indexes = eff->rewrite;
			return eff->rewrite ? WORK_REWRITE : WORK_VALIDATE;
		case RULE_REFRESH_MATVIEW:
			shape->with_indexes = true;
			return WORK_REFRESH;
		case RULE_CREATE_INDEX:
			if (hz->cause != NULL && IsA(hz->cause, IndexStmt))
				return index_kind(InvalidOid,
								  ((IndexStmt *) hz->cause)->accessMethod);
			return WORK_INDEX_BTREE;
		case RULE_ADD_UNIQUE_CONSTRAINT:
			if (hz->cause != NULL && IsA(hz->cause, Constraint))
			{
				Constraint *con = (Constraint *) hz->cause;

				if (con->contype == CONSTR_EXCLUSION)
					return index_kind(InvalidOid, con->access_method);
#ifdef MG_HAS_WITHOUT_OVERLAPS
				/* a key WITHOUT OVERLAPS is a GiST index */
				if (con->without_overlaps)
					return WORK_INDEX_GIST;
#endif
			}
			return WORK_INDEX_BTREE;
		case RULE_REINDEX:
			if (hz->cause != NULL && IsA(hz->cause, ReindexStmt) &&
				((ReindexStmt *) hz->cause)->kind == REINDEX_OBJECT_INDEX)
			{
				shape->indexid = RangeVarGetRelid(((ReindexStmt *) hz->cause)->relation,
												  NoLock, true);
				return index_kind(rel_am(shape->indexid), NULL);
			}
			/* every index of the table: counted as builds along */
			shape->with_indexes = true;
			return WORK_NONE;
		case RULE_SET_NOT_NULL:
		case RULE_ADD_CHECK:
			return WORK_VALIDATE;
		case RULE_ADD_FOREIGN_KEY:
			return WORK_FK_VALIDATE;
		case RULE_ATTACH_PARTITION:
			return WORK_ATTACH_SCAN;
		default:
			return WORK_NONE;
	}
}

/*
 * The latest HISTORY_SCAN statements of each kind long enough to learn
 * from, one branch per kind, each read from audit_log_work_kind_idx.  The
 * kind is a range and the order includes it, so that no plan walks the
 * primary key backwards instead: with "work_kind = ..." the planner did,
 * through every row of a common kind whose statements are all short (1.2 s
 * for an audit of a million rows; this reads a few index pages).
 */
static char *
latest_of_each_kind(void)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 1; i < NUM_WORK_KINDS; i++)
		appendStringInfo(&buf,
						 "%s(SELECT work_kind, id, held_ms / reference_ms AS ratio, role_name"
						 " FROM migration_guard.audit_log"
						 " WHERE work_kind >= '%s' AND work_kind <= '%s'"
						 " AND reference_ms >= %g AND held_ms IS NOT NULL"
						 " ORDER BY work_kind DESC, id DESC LIMIT %d)",
						 i == 1 ? "" : " UNION ALL ", work_kinds[i].name,
						 work_kinds[i].name, HISTORY_MIN_REFERENCE_MS, HISTORY_SCAN);
	return buf.data;
}

/* A saved plan of the query, prepared the first time */
static SPIPlanPtr
kept_plan(SPIPlanPtr *plan, const char *sql)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, 0, NULL);

		if (p == NULL)
			elog(ERROR, "could not prepare a migration_guard history query: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "could not keep a migration_guard history query");
		*plan = p;
	}
	return *plan;
}

/* A kind's factor: the median of its last n statements */
static void
set_from_history(WorkKind kind, double median, int64 n)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(factors_cxt);

	factors[kind].factor = median;
	factors[kind].source = psprintf("the median of the last " INT64_FORMAT " %ss on this server",
									n, work_kinds[kind].words);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * This server's factor for each kind: 1, or what migration_guard.calibrate()
 * measured, or the median of superusers' recent statements of the kind;
 * raised to the median of everyone's if that is slower.  Read as the
 * extension's owner (the audit is not readable by everyone), with the
 * audit's pinned settings.  arg points to the owner's Oid (it runs in a
 * subtransaction: look_up_factors()).
 */
static void
read_factors(void *arg)
{
	Oid			owner = *(Oid *) arg;
	Oid			save_userid;
	int			save_sec_context;
	int			nestlevel;
	MemoryContext oldcxt;
	char	   *history_sql = NULL;

	nestlevel = audit_pin_settings();
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (SPI_execute_plan(kept_plan(&calibration_plan,
								   "SELECT kind, bytes, rows, measured_ms, "
								   " pg_catalog.to_char(measured_at, 'YYYY-MM-DD')"
								   " FROM migration_guard.calibration"),
						 NULL, NULL, true, 0) == SPI_OK_SELECT)
	{
		uint64		r;

		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			WorkKind	kind = work_kind_lookup(SPI_getvalue(tup, desc, 1));
			int64		bytes = pg_strtoint64(SPI_getvalue(tup, desc, 2));
			int64		rows = pg_strtoint64(SPI_getvalue(tup, desc, 3));
			double		measured = strtod(SPI_getvalue(tup, desc, 4), NULL);
			double		reference;

			if (kind == WORK_NONE || bytes <= 0 || !(measured > 0))
				continue;
			/* a row from before the calibration recorded rows */
			if ((kind == WORK_INDEX_BTREE || kind == WORK_REWRITE) && rows <= 0)
				continue;

			/*
			 * calibrate() builds its B-tree on text in the database's
			 * collation
			 */
			if (kind == WORK_INDEX_BTREE)
				reference = btree_reference_ms(bytes, rows,
											   key_class(TEXTOID, DEFAULT_COLLATION_OID));
			/* and its rewrite adds a gen_random_uuid() column */
			else if (kind == WORK_REWRITE)
				reference = rewrite_reference_ms(bytes, rows, true);
			else
				reference = reference_ms(kind, bytes);
			factors[kind].factor = measured / reference;
			oldcxt = MemoryContextSwitchTo(factors_cxt);
			factors[kind].source = psprintf("measured by migration_guard.calibrate() on %s",
											SPI_getvalue(tup, desc, 5));
			MemoryContextSwitchTo(oldcxt);
		}
	}

	/*
	 * Per kind, the median of measured over reference time of the last
	 * HISTORY_WINDOW statements long enough to measure the work rather than
	 * the statement's fixed cost.  Any role can make a statement run fast
	 * for its size (a rewrite of a table that is mostly dead rows), so the
	 * history of every role may only make the server slower than the
	 * calibration says; that of superusers, who could raise max_lock_hold
	 * anyway, may make it faster too.
	 */
	if (history_plan == NULL)
		history_sql = psprintf("SELECT work_kind,"
							 " pg_catalog.count(*) FILTER (WHERE n_all <= %d),"
							 " pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) FILTER (WHERE n_all <= %d),"
							 " pg_catalog.count(*) FILTER (WHERE su AND n_role <= %d),"
							 " pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) FILTER (WHERE su AND n_role <= %d)"
							 " FROM (SELECT a.work_kind, a.ratio, COALESCE(r.rolsuper, false) AS su,"
							 "   pg_catalog.row_number() OVER (PARTITION BY a.work_kind ORDER BY a.id DESC) AS n_all,"
							 "   pg_catalog.row_number() OVER (PARTITION BY a.work_kind, COALESCE(r.rolsuper, false)"
							 "                                 ORDER BY a.id DESC) AS n_role"
							 "  FROM (%s) a"
							 "  LEFT JOIN pg_catalog.pg_roles r ON r.rolname = a.role_name) h"
							 " GROUP BY work_kind",
							 HISTORY_WINDOW, HISTORY_WINDOW, HISTORY_WINDOW,
							 HISTORY_WINDOW, latest_of_each_kind());
	if (SPI_execute_plan(kept_plan(&history_plan, history_sql),
						 NULL, NULL, true, 0) == SPI_OK_SELECT)
	{
		uint64		r;

		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			WorkKind	kind = work_kind_lookup(SPI_getvalue(tup, desc, 1));
			int64		n_all = pg_strtoint64(SPI_getvalue(tup, desc, 2));
			int64		n_su = pg_strtoint64(SPI_getvalue(tup, desc, 4));
			char	   *all = SPI_getvalue(tup, desc, 3);
			char	   *su = SPI_getvalue(tup, desc, 5);

			if (kind == WORK_NONE)
				continue;
			/* superusers' history replaces the calibration */
			if (n_su >= HISTORY_MIN_SAMPLES && su != NULL && strtod(su, NULL) > 0)
				set_from_history(kind, strtod(su, NULL), n_su);
			/* everyone's may only make it slower */
			if (n_all >= HISTORY_MIN_SAMPLES && all != NULL &&
				strtod(all, NULL) > factors[kind].factor)
				set_from_history(kind, strtod(all, NULL), n_all);
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	AtEOXact_GUC(true, nestlevel);
}

/* Each kind at its reference rate, with why */
static void
reset_factors(const char *source)
{
	int			i;

	for (i = 0; i < NUM_WORK_KINDS; i++)
	{
		factors[i].factor = 1.0;
		factors[i].source = source;
	}
}

/*
 * The factors, once per transaction.  A failure to read them (audit_log
 * locked by a DBA's VACUUM FULL past the audit's wait, say) must not fail
 * the statement being judged: it is judged at the reference rates, and
 * says why.  A cancel or a lack of memory still ends it.
 */
static void
look_up_factors(void)
{
	Oid			owner = audit_table_owner();
	ErrorData  *edata;
	int			i;

	if (factors_cxt == NULL)
		factors_cxt = AllocSetContextCreate(TopMemoryContext,
											"migration_guard hold factors",
											ALLOCSET_SMALL_SIZES);
	MemoryContextReset(factors_cxt);
	reset_factors("the reference rate");
	if (!OidIsValid(owner))
	{
		factors_lxid = mg_my_lxid();
		return;
	}

	edata = mg_in_subtransaction(read_factors, &owner, false,
								 mg_error_ends_work);
	if (edata == NULL)
	{
		for (i = 0; i < NUM_WORK_KINDS; i++)
			last_read[i] = factors[i].factor;
		have_last_read = true;
	}
	else
	{
		MemoryContextReset(factors_cxt);
		reset_factors(MemoryContextStrdup(factors_cxt,
										  psprintf(have_last_read ?
												   "this server's rates as this session last read them: they could not be read now (%s)" :
												   "the reference rate: this server's could not be read (%s)",
												   edata->message)));
		for (i = 0; have_last_read && i < NUM_WORK_KINDS; i++)
			factors[i].factor = last_read[i];
		FreeErrorData(edata);
	}
	/* read, or fallen back from for a reason that lasts the transaction */
	factors_lxid = mg_my_lxid();
}

/*
 * How long the work of one hazard holds the statement's lock.  work is the
 * size that work reads (rules.c's work_size()).
 */
HoldTime
predict_hold(const RelEffect *eff, const Hazard *hz, const RelSize *work,
			 const ScriptState *script)
{
	HoldTime	ht;
	WorkShape	shape;
	int64		heap_bytes;
	int64		live;
	int64		read;

	memset(&ht, 0, sizeof(ht));
	ht.factor = 1.0;
	ht.kind = hazard_kind(eff, hz, &shape);
	if (ht.kind == WORK_NONE && !shape.with_indexes)
		return ht;

	heap_bytes = work->toast_left_out ? work->bytes :
		work->bytes - work->toast_bytes;
	ht.bytes = work->bytes;

	/*
	 * Rows: a rewrite copies the live ones, and builds its indexes on them;
	 * an index build on the old table reads also the old versions of the
	 * rows this transaction updated or deleted.  The estimate scales the
	 * last known density to the table's size now, which dead rows swell
	 * until the next VACUUM; where the statistics count fewer, they count.
	 */
	live = work->rows;
	read = work->rows;
	if (work->live_rows > 0 && work->live_rows < work->rows)
		live = work->live_rows;
	if (work->live_rows > 0 && work->live_rows + work->old_versions < work->rows)
		read = work->live_rows + work->old_versions;

	if (ht.kind == WORK_INDEX_BTREE)
	{
		HeapTuple	tup = OidIsValid(shape.indexid) ?
			SearchSysCache1(INDEXRELID, ObjectIdGetDatum(shape.indexid)) : NULL;

		if (HeapTupleIsValid(tup))
		{
			ht.key_class = index_key_class(tup);
			ReleaseSysCache(tup);
		}
		else
			ht.key_class = new_index_key_class(eff, hz->cause);
		ht.rows = read;
		ht.reference_ms = btree_reference_ms(work->bytes, ht.rows, ht.key_class);
	}
	else if (ht.kind == WORK_REWRITE)
	{
		ht.copies_blocks = shape.copies_blocks;
		ht.rows = shape.copies_blocks ? 0 : live;
		ht.reference_ms = rewrite_reference_ms(work->bytes, ht.rows, shape.adds_value);
	}
	else if (ht.kind != WORK_NONE)
		ht.reference_ms = reference_ms(ht.kind, work->bytes);
	ht.work_ms = ht.reference_ms;
	if (shape.with_indexes)
	{
		/* REINDEX TABLE reads the old table; a rewrite, its new one */
		ht.index_bytes = heap_bytes;
		ht.index_rows = ht.kind == WORK_NONE ? read : live;
		ht.reference_ms += indexes_reference_ms(eff->relid, heap_bytes,
												ht.index_rows, &ht.nindexes);
	}
	/* REINDEX TABLE: its work is its indexes' builds, B-tree's factor */
	if (ht.kind == WORK_NONE)
	{
		ht.kind = WORK_INDEX_BTREE;
		ht.bytes = 0;
	}

	if (factors_lxid != mg_my_lxid())
		look_up_factors();
	ht.factor = factors[ht.kind].factor;
	ht.source = factors[ht.kind].source;
	/* check() given another server's sizes judges by its rates too */
	if (script != NULL && script->rates != NULL &&
		script->rates->factor[ht.kind] > 0)
	{
		ht.factor = script->rates->factor[ht.kind];
		ht.source = script->rates->source[ht.kind];
	}
	ht.predicted_ms = ht.reference_ms * ht.factor;
	return ht;
}

/*
 * The prediction in words: "a rewrite of 75 MB at 5.4 MB/s and 2 index
 * builds (the median of the last 20 rewrites on this server)"
 */
char *
describe_hold(const HoldTime *ht)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (ht->bytes > 0 && ht->kind == WORK_INDEX_BTREE)
		appendStringInfo(&buf, "a %s of %s, " INT64_FORMAT " keys of %s at %.1f microseconds each",
						 work_kinds[ht->kind].words, format_bytes(ht->bytes),
						 ht->rows, key_classes[ht->key_class].words,
						 key_classes[ht->key_class].ns * ht->factor / 1000.0);
	else if (ht->bytes > 0 && ht->work_ms > 0)
	{
		/* the rate the prediction comes to, rows and all */
		double		mb_s = ht->bytes / 1048576.0 / (ht->work_ms * ht->factor / 1000.0);

		if (ht->copies_blocks)
			appendStringInfo(&buf, "a copy of %s, block by block,",
							 format_bytes(ht->bytes));
		else
			appendStringInfo(&buf, "a %s of %s", work_kinds[ht->kind].words,
							 format_bytes(ht->bytes));
		if (ht->kind == WORK_REWRITE && !ht->copies_blocks)
			appendStringInfo(&buf, " (" INT64_FORMAT " rows)", ht->rows);
		appendStringInfo(&buf, " at %.*f MB/s", mb_s < 10 ? 1 : 0, mb_s);
	}
	if (ht->nindexes > 0)
		appendStringInfo(&buf, "%s%d index build%s of %s, " INT64_FORMAT " rows each",
						 buf.len > 0 ? " and " : "", ht->nindexes,
						 ht->nindexes == 1 ? "" : "s",
						 format_bytes(ht->index_bytes), ht->index_rows);
	appendStringInfo(&buf, " (%s)", ht->source);
	return buf.data;
}

PG_FUNCTION_INFO_V1(mg_work_rates);

/*
 * migration_guard.work_rates(): per kind, the reference rate, the rate the
 * predictions use and where it comes from
 */
Datum
mg_work_rates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	mg_init_materialized_srf(fcinfo);
	look_up_factors();
	for (i = 1; i < NUM_WORK_KINDS; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false};

		values[0] = CStringGetTextDatum(work_kinds[i].name);
		values[1] = Float8GetDatum(work_kinds[i].reference_mb_s);
		values[2] = Float8GetDatum(work_kinds[i].reference_mb_s / factors[i].factor);
		values[3] = Float8GetDatum(factors[i].factor);
		values[4] = CStringGetTextDatum(factors[i].source);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
