/*-------------------------------------------------------------------------
 *
 * audit_direct.c
 *	  Audit: write one row of migration_guard.audit_log without the
 *	  executor, while the table is exactly as the extension created it.
 *
 * Starting an executor for a one-row INSERT cost more than the insert and
 * the judging together (benchmark (c) in README.md).  A plain heap insert
 * plus its index entries does the same work as that INSERT only while
 * nothing else is attached to the table, so this path is taken only when
 * the table has
 *	- the extension's columns, in order, of the expected types without
 *	  typmod (verdict of the extension's enum), none dropped, generated or
 *	  identity, and "id" defaulting to nextval() of a sequence;
 *	- no triggers (so no foreign keys), rules, row security, CHECK
 *	  constraints, partitions or other table access method;
 *	- only indexes on plain columns, without predicate, not deferrable and
 *	  not exclusion constraints, all valid and ready;
 * and its owner (who writes the row) must hold the INSERT privilege on it
 * and USAGE on its schema.
 * Otherwise, or when a NOT NULL column would get a NULL, the caller runs
 * the INSERT through SPI, which applies whatever the DBA added.  Columns
 * other than "id" never take their default: the INSERT names them all.
 *
 * The table-level answer is cached and forgotten on any relcache
 * invalidation of the table (ALTER TABLE, CREATE TRIGGER, CREATE RULE, ...
 * all send one); privileges and the indexes are checked on every insert,
 * before the heap tuple is written.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/audit_direct.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "migration_guard.h"

/* audit_log's columns: "id", then the row's fields */
#define AUDIT_NATTS		(AUDIT_NFIELDS + 1)

/* What we know about the table; valid until its next relcache invalidation */
typedef struct AuditShape
{
	bool		valid;
	Oid			relid;
	bool		direct;			/* may be written directly */
	Oid			seqid;			/* id's sequence */
	Oid			verdict_type;	/* the audit_verdict enum */
	bool		notnull[AUDIT_NATTS];
} AuditShape;

static AuditShape shape;
static bool callback_registered = false;
static uint64 forget_count = 0;

static void
shape_forget(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == shape.relid)
	{
		shape.valid = false;
		forget_count++;
	}
}

/* The sequence of "nextval('seq'::regclass)", or InvalidOid */
static Oid
nextval_sequence(Node *expr)
{
	FuncExpr   *fexpr = (FuncExpr *) expr;
	Const	   *arg;

	if (expr == NULL || !IsA(expr, FuncExpr) ||
		fexpr->funcid != F_NEXTVAL || list_length(fexpr->args) != 1)
		return InvalidOid;
	arg = (Const *) linitial(fexpr->args);
	if (!IsA(arg, Const) || arg->consttype != REGCLASSOID || arg->constisnull)
		return InvalidOid;
	return DatumGetObjectId(arg->constvalue);
}

/* Is the table itself (not its indexes) as the extension created it? */
static bool
table_is_plain(Relation rel, const char *const *names,
			   const Oid *types)
{
	TupleDesc	desc;
	TupleConstr *constr;
	Oid			verdict_type;
	int			i;

	/*
	 * The lookup first: a cache miss may process invalidations and rebuild
	 * the relation's tuple descriptor under us.
	 */
	verdict_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								   CStringGetDatum("audit_verdict"),
								   ObjectIdGetDatum(RelationGetNamespace(rel)));
	desc = RelationGetDescr(rel);
	constr = desc->constr;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		rel->rd_rel->relhastriggers || rel->trigdesc != NULL ||
		rel->rd_rel->relhasrules || rel->rd_rel->relrowsecurity ||
		rel->rd_rel->relispartition ||
		desc->natts != AUDIT_NATTS)
		return false;
	if (constr != NULL && (constr->num_check > 0 || constr->has_generated_stored))
		return false;

	for (i = 0; i < AUDIT_NATTS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			want = (i == 0) ? INT8OID : types[i - 1];

		if (i - 1 == AF_VERDICT)
			want = verdict_type;
		if (att->attisdropped || att->attgenerated || att->attidentity ||
			strcmp(NameStr(att->attname), i == 0 ? "id" : names[i - 1]) != 0 ||
			att->atttypid != want || att->atttypmod != -1)
			return false;
		shape.notnull[i] = att->attnotnull;
	}

	/* id's default is nextval() of a sequence */
	shape.seqid = InvalidOid;
	if (constr != NULL)
	{
		for (i = 0; i < constr->num_defval; i++)
			if (constr->defval[i].adnum == 1)
				shape.seqid = nextval_sequence(stringToNode(constr->defval[i].adbin));
	}
	shape.verdict_type = verdict_type;
	return OidIsValid(shape.seqid) && OidIsValid(verdict_type);
}

/* May this index get its entry from index_insert() on plain column values? */
static bool
index_is_plain(Relation index)
{
	Form_pg_index idx = index->rd_index;
	int			i;

	if (!idx->indisvalid || !idx->indisready || !idx->indislive ||
		idx->indisexclusion || !idx->indimmediate ||
		RelationGetIndexExpressions(index) != NIL ||
		RelationGetIndexPredicate(index) != NIL)
		return false;
	for (i = 0; i < idx->indnatts; i++)
		if (idx->indkey.values[i] <= 0 || idx->indkey.values[i] > AUDIT_NATTS)
			return false;
	return true;
}

/*
 * Write the row into audit_log (relid) as the current user, its owner, if
 * the table allows it.  Returns false, having written nothing, when the
 * caller must run the INSERT instead.  names and types describe the row's
 * fields; the verdict field holds text.
 */
bool
audit_insert_direct(Oid relid, AuditRow *row,
					const char *const *names, const Oid *types)
{
	Oid			user = GetUserId();
	Relation	rel;
	List	   *indexoids;
	Relation   *indexes;
	int			nindexes = 0;
	ListCell   *lc;
	Datum		values[AUDIT_NATTS];
	bool		nulls[AUDIT_NATTS];
	HeapTuple	tuple;
	bool		ok = true;
	int			i;

	/* what an INSERT would refuse, or do differently, in this transaction */
	if (XactReadOnly || IsInParallelMode())
		return false;

	rel = table_open(relid, RowExclusiveLock);
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(shape_forget, (Datum) 0);
		callback_registered = true;
	}
	if (!shape.valid || shape.relid != relid)
	{
		uint64		before = forget_count;

		shape.relid = relid;
		shape.direct = table_is_plain(rel, names, types);
		/* an invalidation that came in meanwhile may have made it stale */
		shape.valid = (forget_count == before);
	}

	/*
	 * Not cached: the owner keeps the privileges as superuser even where
	 * relacl revokes them, and losing superuser, or USAGE on the schema,
	 * sends no relcache invalidation of the table.
	 */
	if (!shape.direct ||
		pg_class_aclcheck(relid, user, ACL_INSERT) != ACLCHECK_OK ||
		pg_namespace_aclcheck(RelationGetNamespace(rel), user,
							  ACL_USAGE) != ACLCHECK_OK)
	{
		table_close(rel, NoLock);	/* the INSERT takes the same lock */
		return false;
	}

	/* the values, in the table's column order */
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		values[i + 1] = row->values[i];
		nulls[i + 1] = row->nulls[i];
		if (nulls[i + 1] && shape.notnull[i + 1])
			ok = false;			/* let the INSERT report it */
	}
	if (!nulls[AF_VERDICT + 1])
	{
		char	   *label = TextDatumGetCString(values[AF_VERDICT + 1]);

		values[AF_VERDICT + 1] =
			DirectFunctionCall2(enum_in, CStringGetDatum(label),
								ObjectIdGetDatum(shape.verdict_type));
	}

	/* every index must be plain, before anything is written */
	indexoids = RelationGetIndexList(rel);
	indexes = palloc(sizeof(Relation) * (list_length(indexoids) + 1));
	foreach(lc, indexoids)
	{
		Relation	index = index_open(lfirst_oid(lc), RowExclusiveLock);

		indexes[nindexes++] = index;
		if (!index_is_plain(index))
			ok = false;
	}
	if (!ok)
	{
		for (i = 0; i < nindexes; i++)
			index_close(indexes[i], NoLock);
		table_close(rel, NoLock);
		return false;
	}

	values[0] = Int64GetDatum(nextval_internal(shape.seqid, true));
	nulls[0] = false;
	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, tuple);

	for (i = 0; i < nindexes; i++)
	{
		Relation	index = indexes[i];
		Form_pg_index idx = index->rd_index;
		Datum		ivalues[INDEX_MAX_KEYS];
		bool		inulls[INDEX_MAX_KEYS];
		int			k;

		for (k = 0; k < idx->indnatts; k++)
		{
			ivalues[k] = values[idx->indkey.values[k] - 1];
			inulls[k] = nulls[idx->indkey.values[k] - 1];
		}
		index_insert(index, ivalues, inulls, &tuple->t_self, rel,
					 idx->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, BuildIndexInfo(index));
		index_close(index, NoLock);
	}
	table_close(rel, NoLock);
	return true;
}
