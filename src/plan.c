/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  migration_guard.plan(sql): a naive migration script turned into the
 *	  ordered steps of a safe plan.
 *
 * The script is judged by check_script(), the path of check() and of the
 * hook.  A statement the guard lets through is a step as written.  One it
 * would refuse or warn about becomes the steps of its safe form, built
 * from its parse tree and the catalog: each step has its phase (expand,
 * backfill, constrain, switch, contract), the SQL and its transaction
 * shape, a query that verifies it and the SQL that undoes it.  The steps
 * are ordered by phase, statements keeping their order within a phase;
 * a rename holds every later statement at its phase or after, since they
 * may use the new name.  The column backfills of one table are merged
 * into one backfill() call.
 *
 * The plan is then judged itself, as a script of its own, by the same
 * path: that gives each step its lock, what the lock holds it for and the
 * table's size, and a step the guard would still refuse says so in its
 * note (a planner bug, which the proof in test/t/014_plan.pl would find).
 *
 * What the guard cannot plan (a DO block, a rewrite with no online form)
 * is a step of its own, the statement as written, with a note saying why.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_target.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "migration_guard.h"
#include "pg_compat.h"

PG_FUNCTION_INFO_V1(mg_plan);

typedef enum PlanPhase
{
	PHASE_EXPAND,
	PHASE_BACKFILL,
	PHASE_CONSTRAIN,
	PHASE_SWITCH,
	PHASE_CONTRACT
} PlanPhase;

static const char *const phase_names[] = {
	"expand", "backfill", "constrain", "switch", "contract"
};

typedef struct PlanStep
{
	PlanPhase	phase;
	int			statement;		/* of the naive script */
	int			seq;			/* order of creation: ties in a phase */
	char	   *sql;
	bool		outside;		/* must run outside a transaction block */
	char	   *verify;
	char	   *undo;
	char	   *deploy;
	char	   *note;

	/* a column backfill, written out once merged (see merge_fills) */
	Oid			fill_relid;
	char	   *fill_rel;
	List	   *fill_cols;		/* char *: the columns, quoted */
	List	   *fill_values;	/* char *: their values */
	List	   *fill_conds;		/* char *: the rows that still need one */

	/*
	 * A rule whose proof the dry run cannot see: the ATTACH after the
	 * plan's own validated CHECK (check() proves an attach by the catalog's
	 * constraints only); the server sees the CHECK and lets it through
	 */
	int			proved_rule;

	/* from the dry run of the plan */
	int			first_line;		/* where the step starts in the plan script */
	char	   *relation;
	LOCKMODE	lockmode;
	const char *hold;
	int64		bytes;
	bool		has_bytes;
} PlanStep;

typedef struct Planner
{
	List	   *steps;
	int			statement;
	PlanPhase	floor;			/* a rename: later statements come after it */
	List	   *made;			/* RangeVar *: tables the script creates */
	const char *script;			/* the naive script: parse locations */
	bool		on_made;		/* the statement changes one of them: expand */
	int			seq;
} Planner;

/* ---------- building steps ---------- */

static PlanStep *
add_step(Planner *p, PlanPhase phase, char *sql, bool outside,
		 char *verify, char *undo)
{
	PlanStep   *s = palloc0(sizeof(PlanStep));

	s->phase = Max(p->on_made && phase < PHASE_SWITCH ? PHASE_EXPAND : phase,
				   p->floor);
	s->statement = p->statement;
	s->seq = p->seq++;
	s->sql = sql;
	s->outside = outside;
	s->verify = verify;
	s->undo = undo;
	p->steps = lappend(p->steps, s);
	return s;
}

static const char *
lit(const char *s)
{
	return quote_literal_cstr(s);
}

/*
 * A statement the guard warns about (or would refuse), made safe by what
 * the plan does around it or by the deploy it comes after: the rule is
 * acknowledged for its transaction, with the plan's reason, so that the
 * audit says why it ran
 */
static char *
acknowledged(int rule, const char *reason, const char *sql)
{
	return psprintf("SET LOCAL migration_guard.allow = %s; SET LOCAL migration_guard.reason = %s; %s",
					lit(rule_name(rule)), lit(psprintf("plan: %s", reason)), sql);
}

static char *
verify_column(const char *rel, const char *col, bool present)
{
	return psprintf("SELECT %sEXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attname = %s AND NOT attisdropped)",
					present ? "" : "NOT ", lit(rel), lit(col));
}

static char *
verify_constraint(const char *rel, const char *con, bool validated)
{
	if (validated)
		return psprintf("SELECT coalesce((SELECT convalidated FROM pg_catalog.pg_constraint WHERE conrelid = %s::regclass AND conname = %s), false)",
						lit(rel), lit(con));
	return psprintf("SELECT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = %s::regclass AND conname = %s)",
					lit(rel), lit(con));
}

#ifndef MG_HAS_NOT_NULL_CONSTRAINTS
static char *
verify_not_null(const char *rel, const char *col)
{
	return psprintf("SELECT attnotnull FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
					lit(rel), lit(col));
}
#endif

static char *
verify_no_constraint(const char *rel, const char *con)
{
	return psprintf("SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = %s::regclass AND conname = %s)",
					lit(rel), lit(con));
}

static char *
verify_index_valid(const char *idx)
{
	return psprintf("SELECT coalesce((SELECT indisvalid FROM pg_catalog.pg_index WHERE indexrelid = pg_catalog.to_regclass(%s)), false)",
					lit(idx));
}

static char *
verify_gone(const char *rel)
{
	return psprintf("SELECT pg_catalog.to_regclass(%s) IS NULL", lit(rel));
}

static char *
verify_exists(const char *rel)
{
	return psprintf("SELECT pg_catalog.to_regclass(%s) IS NOT NULL", lit(rel));
}

/*
 * The statement as written: it is safe, or the guard cannot plan it.  The
 * statements that make a table or an index are verified and undone by its
 * name; data changes cannot be undone by the plan.
 */
static PlanStep *
as_written(Planner *p, PlanPhase phase, const char *sql, Node *stmt)
{
	PlanStep   *s = add_step(p, phase, pstrdup(sql),
							 outside_transaction_only(stmt) != NULL, NULL, NULL);

	if (IsA(stmt, CreateStmt) && !((CreateStmt *) stmt)->if_not_exists)
	{
		RangeVar   *rv = ((CreateStmt *) stmt)->relation;
		char	   *name = quote_qualified_identifier(rv->schemaname, rv->relname);

		s->verify = verify_exists(name);
		s->undo = psprintf("DROP TABLE %s", name);
	}
	else if (IsA(stmt, IndexStmt) && ((IndexStmt *) stmt)->idxname != NULL &&
			 !((IndexStmt *) stmt)->if_not_exists)
	{
		IndexStmt  *is = (IndexStmt *) stmt;
		char	   *name = quote_qualified_identifier(is->relation->schemaname, is->idxname);

		s->verify = verify_index_valid(name);
		s->undo = psprintf("DROP INDEX%s %s", is->concurrent ? " CONCURRENTLY" : "", name);
	}
	else if (IsA(stmt, InsertStmt) || IsA(stmt, UpdateStmt) || IsA(stmt, DeleteStmt))
		s->undo = "irreversible: migration_guard does not keep the rows a data change replaces; copy them first if you may need them.";
	return s;
}

static void
cannot_plan(Planner *p, const char *sql, Node *stmt, const char *why)
{
	PlanStep   *s = as_written(p, PHASE_EXPAND, sql, stmt);

	s->note = pstrdup(why);
}

/* The relation's schema, quoted, with a dot: where its new objects go */
static char *
schema_prefix(Oid relid)
{
	char	   *nsp = OidIsValid(relid) ? get_namespace_name(get_rel_namespace(relid)) : NULL;

	return nsp ? psprintf("%s.", quote_identifier(nsp)) : "";
}

static Oid
rel_namespace(Oid relid)
{
	return OidIsValid(relid) ? get_rel_namespace(relid) : PG_PUBLIC_NAMESPACE;
}

/* Column names joined by "_", as PostgreSQL names indexes and keys */
static char *
joined_names(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);

		if (buf.len > 0)
			appendStringInfoChar(&buf, '_');
		appendStringInfoString(&buf, name);
		if (buf.len >= NAMEDATALEN)
			break;
	}
	return buf.data;
}

static char *
quoted_list(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 quote_identifier((const char *) lfirst(lc)));
	return buf.data;
}

static List *
string_values(List *strings)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, strings)
		out = lappend(out, strVal(lfirst(lc)));
	return out;
}

static char *query_text(const char *query, Oid relid);

/* ---------- the safe forms ---------- */

/*
 * NOT NULL without the scan under ACCESS EXCLUSIVE: before 18, a validated
 * CHECK (col IS NOT NULL) that SET NOT NULL accepts as proof, dropped with
 * it; on 18, the not-null constraint itself NOT VALID, then validated.
 */
static char *
plan_not_null(Planner *p, const char *rel, Oid relid, const char *relname,
			  const char *col)
{
	const char *qcol = quote_identifier(col);
	char	   *con = ChooseConstraintName(relname, col, "not_null",
										   rel_namespace(relid), NIL);
	const char *qcon = quote_identifier(con);

#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s NOT VALID", rel, qcon, qcol),
			 false, verify_constraint(rel, con, false),
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", rel, qcon));
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", rel, qcon),
			 false, verify_constraint(rel, con, true),
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s; ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s NOT VALID",
					  rel, qcon, rel, qcon, qcol));
#else
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID", rel, qcon, qcol),
			 false, verify_constraint(rel, con, false),
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", rel, qcon));
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", rel, qcon),
			 false, verify_constraint(rel, con, true),
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s; ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID",
					  rel, qcon, rel, qcon, qcol));
	/* the validated CHECK is the proof: no scan; then it has done its job */
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; ALTER TABLE %s DROP CONSTRAINT %s",
					  rel, qcol, rel, qcon),
			 false, verify_not_null(rel, col),
			 psprintf("BEGIN; ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID; "
					  "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL; COMMIT; "
					  "ALTER TABLE %s VALIDATE CONSTRAINT %s",
					  rel, qcon, qcol, rel, qcol, rel, qcon));
#endif
	return con;
}

/* A CHECK or foreign key added NOT VALID, then validated */
static void
plan_not_valid(Planner *p, const char *rel, const char *con,
			   const char *definition)
{
	const char *qcon = quote_identifier(con);

	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", rel, qcon, definition),
			 false, verify_constraint(rel, con, false),
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", rel, qcon));
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", rel, qcon),
			 false, verify_constraint(rel, con, true),
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s; ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID",
					  rel, qcon, rel, qcon, definition));
}

/* A column filled in batches: merged per table before it is written out */
static void
plan_fill(Planner *p, Oid relid, const char *rel, const char *col,
		  const char *value, const char *cond)
{
	PlanStep   *s = add_step(p, PHASE_BACKFILL, NULL, true, NULL,
							 "nothing to undo: the values fill a column that an expand step adds, and undoing that step drops it.");

	s->fill_relid = relid;
	s->fill_rel = pstrdup(rel);
	s->fill_cols = list_make1(pstrdup(col));
	s->fill_values = list_make1(pstrdup(value));
	s->fill_conds = list_make1(pstrdup(cond));
}

/* Does the relation have a primary key, which backfill() walks? */
static bool
has_primary_key(Oid relid)
{
	Relation	r;
	bool		pk;

	if (!OidIsValid(relid))
		return false;
	r = table_open(relid, AccessShareLock);
	pk = OidIsValid(mg_primary_key_index(r));
	table_close(r, AccessShareLock);
	return pk;
}

static bool plan_key(Planner *p, const RelEffect *eff, Constraint *con);

/* Where the next constraint of a column starts, past DEFERRABLE and such */
static int
next_constraint_location(ListCell *lc, List *constraints)
{
	for (lc = lnext(constraints, lc); lc != NULL; lc = lnext(constraints, lc))
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype != CONSTR_ATTR_DEFERRABLE &&
			con->contype != CONSTR_ATTR_NOT_DEFERRABLE &&
			con->contype != CONSTR_ATTR_DEFERRED &&
			con->contype != CONSTR_ATTR_IMMEDIATE)
			return con->location;
	}
	return -1;
}

/*
 * ALTER TABLE ... ADD COLUMN whose default rewrites the table, or which
 * carries a constraint that scans it (a CHECK, a key, REFERENCES, as
 * Django writes a foreign key): the bare column first, with a default for
 * new rows, the old rows in batches, then each constraint in its safe
 * form.  A constant default and NOT NULL without a rewrite stay with it.
 */
static bool
plan_add_column(Planner *p, const RelEffect *eff, AlterTableCmd *cmd,
				List *hazards)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	const char *rel = eff->relname;
	Oid			relid = eff->relid;
	char	   *relname = OidIsValid(relid) ? get_rel_name(relid) : NULL;
	const char *col = def->colname;
	const char *qcol = quote_identifier(col);
	char	   *type_sql = NULL;
	const char *default_sql = NULL;
	char	   *inline_default = NULL;
	bool		rewrite = false;
	bool		not_null = def->is_not_null;
	int			first_con = -1;
	List	   *later = NIL;	/* Constraint *, and its text in later_sql */
	List	   *later_sql = NIL;
	ListCell   *lc;
	ListCell   *sc;
	StringInfoData add;

	if (relname == NULL || p->script == NULL || def->identity ||
		def->generated || def->collClause != NULL || def->typeName == NULL ||
		def->typeName->location < 0)
		return false;
	foreach(lc, hazards)
	{
		Hazard	   *hz = (Hazard *) lfirst(lc);

		if (hz->rule == RULE_ADD_COLUMN_REWRITE)
		{
			rewrite = true;
			default_sql = hz->expr_sql;
		}
	}
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);
		char	   *text = sql_clause_at(p->script, con->location,
										 next_constraint_location(lc, def->constraints));

		if (first_con < 0)
			first_con = con->location;
		switch (con->contype)
		{
			case CONSTR_NOTNULL:
				not_null = true;
				break;
			case CONSTR_NULL:
			case CONSTR_ATTR_DEFERRABLE:
			case CONSTR_ATTR_NOT_DEFERRABLE:
			case CONSTR_ATTR_DEFERRED:
			case CONSTR_ATTR_IMMEDIATE:
				break;
			case CONSTR_DEFAULT:
				if (!rewrite)
					inline_default = text;
				break;
			case CONSTR_CHECK:
			case CONSTR_FOREIGN:
			case CONSTR_UNIQUE:
			case CONSTR_PRIMARY:
				later = lappend(later, con);
				later_sql = lappend(later_sql, text);
				break;
			default:
				return false;
		}
	}
	type_sql = sql_clause_at(p->script, def->typeName->location, first_con);
	if (type_sql[0] == '\0' || (rewrite && default_sql == NULL))
		return false;
	if (rewrite && !has_primary_key(relid))
		return false;

	initStringInfo(&add);
	appendStringInfo(&add, "ALTER TABLE %s ADD COLUMN %s %s", rel, qcol, type_sql);
	if (inline_default != NULL)
		appendStringInfo(&add, " %s", inline_default);
	if (not_null && !rewrite)
		appendStringInfoString(&add, " NOT NULL");
	if (default_sql != NULL)
		appendStringInfo(&add, "; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
						 rel, qcol, default_sql);
	add_step(p, PHASE_EXPAND, add.data, false, verify_column(rel, col, true),
			 psprintf("ALTER TABLE %s DROP COLUMN %s", rel, qcol));
	if (default_sql != NULL)
		plan_fill(p, relid, rel, qcol, default_sql, psprintf("%s IS NULL", qcol));
	if (not_null && rewrite)
		plan_not_null(p, rel, relid, relname, col);
	forboth(lc, later, sc, later_sql)
	{
		Constraint *con = (Constraint *) lfirst(lc);
		char	   *definition = sql_constraint_definition((char *) lfirst(sc));
		char	   *name;

		if (definition == NULL)
			return false;
		switch (con->contype)
		{
			case CONSTR_CHECK:
				name = con->conname ? con->conname :
					ChooseConstraintName(relname, col, "check", rel_namespace(relid), NIL);
				plan_not_valid(p, rel, name, definition);
				break;
			case CONSTR_FOREIGN:
				name = con->conname ? con->conname :
					ChooseConstraintName(relname, col, "fkey", rel_namespace(relid), NIL);
				plan_not_valid(p, rel, name,
							   psprintf("FOREIGN KEY (%s) %s", qcol, definition));
				break;
			default:
				{
					Constraint *key = copyObject(con);

					key->keys = list_make1(makeString(pstrdup(col)));
					if (!plan_key(p, eff, key))
						return false;
				}
				break;
		}
	}
	return true;
}

/*
 * What else uses the column (an index, a constraint, a view, a trigger, a
 * statistics object, a partition key): a change of its type through a new
 * column would have to rebuild each.  NULL if nothing does.
 */
static char *
column_users(Oid relid, const char *col)
{
	char	   *found = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	AttrNumber	attnum = get_attnum(relid, col);

	if (attnum == InvalidAttrNumber)
		return NULL;
	SPI_connect();
	if (SPI_execute_with_args(
		"SELECT pg_catalog.pg_describe_object(classid, objid, objsubid) "
		"FROM pg_catalog.pg_depend "
		"WHERE refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
		"AND refobjid = $1 AND refobjsubid = $2 "
		"AND classid <> 'pg_catalog.pg_attrdef'::pg_catalog.regclass "
		"AND NOT (classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND "
		"objid IN (SELECT oid FROM pg_catalog.pg_constraint WHERE contype = 'n')) "
		"AND deptype IN ('n', 'a', 'i') "
		"UNION ALL SELECT 'the partition key' FROM pg_catalog.pg_partitioned_table "
		"WHERE partrelid = $1 AND $2 = ANY (partattrs::pg_catalog.int2[]) LIMIT 1",
		2, (Oid[]) {OIDOID, INT2OID},
		(Datum[]) {ObjectIdGetDatum(relid), Int16GetDatum(attnum)},
		NULL, true, 1) == SPI_OK_SELECT && SPI_processed > 0)
	{
		char	   *what = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		found = MemoryContextStrdup(cxt, what ? what : "another object");
	}
	SPI_finish();
	return found;
}

/* The column's default as SQL, or NULL */
static char *
column_default(Oid relid, const char *col)
{
	char	   *result = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	SPI_connect();
	if (SPI_execute_with_args(
		"SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
		"WHERE d.adrelid = $1 AND a.attname = $2",
		2, (Oid[]) {OIDOID, TEXTOID},
		(Datum[]) {ObjectIdGetDatum(relid), CStringGetTextDatum(col)},
		NULL, true, 1) == SPI_OK_SELECT && SPI_processed > 0)
	{
		char	   *what = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (what)
			result = MemoryContextStrdup(cxt, what);
	}
	SPI_finish();
	return result;
}

/*
 * ALTER COLUMN ... TYPE that rewrites: a new column of the new type, kept
 * in step by a trigger, backfilled, constrained like the old one, then
 * swapped in by two renames in one short transaction; the old column is
 * dropped last.  Only for a column nothing else depends on, and with no
 * USING other than the column itself.
 */
static bool
plan_column_type(Planner *p, const RelEffect *eff, AlterTableCmd *cmd,
				 const Hazard *hz, char **why)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	const char *rel = eff->relname;
	Oid			relid = eff->relid;
	char	   *relname;
	const char *col = cmd->name;
	const char *qcol = quote_identifier(col);
	char	   *newcol;
	char	   *oldcol;
	const char *qnew;
	const char *qold;
	char	   *fn;
	char	   *qfn;
	char	   *qtrig;
	char	   *users;
	char	   *dflt;
	bool		not_null;
	AttrNumber	attnum;
	StringInfoData sw;
	char	   *new_nn = NULL;
	char	   *old_nn = NULL;

	if (!OidIsValid(relid) || hz->type_sql == NULL || def->collClause != NULL)
		return false;
	if (def->raw_default != NULL &&
		!(IsA(def->raw_default, ColumnRef) &&
		  list_length(((ColumnRef *) def->raw_default)->fields) == 1 &&
		  IsA(linitial(((ColumnRef *) def->raw_default)->fields), String) &&
		  strcmp(strVal(linitial(((ColumnRef *) def->raw_default)->fields)), col) == 0))
	{
		*why = "A USING expression other than the column itself cannot be planned yet: follow the recipe of check() with it.";
		return false;
	}
	if ((users = column_users(relid, col)) != NULL)
	{
		*why = psprintf("Column %s is used by %s, which a new column would have to rebuild: follow the recipe of check() by hand for it.",
						qcol, users);
		return false;
	}
	if (!has_primary_key(relid))
	{
		*why = "backfill() walks the primary key, and the table has none.";
		return false;
	}
	attnum = get_attnum(relid, col);
	{
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
										  Int16GetDatum(attnum));

		if (!HeapTupleIsValid(tup))
			return false;
		not_null = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
		ReleaseSysCache(tup);
	}
	relname = get_rel_name(relid);
	newcol = psprintf("%s_new", col);
	oldcol = psprintf("%s_old", col);
	qnew = quote_identifier(newcol);
	qold = quote_identifier(oldcol);
	fn = psprintf("%s_%s_sync", relname, newcol);
	qfn = psprintf("%s%s", schema_prefix(relid), quote_identifier(fn));
	qtrig = pstrdup(quote_identifier(fn));
	dflt = column_default(relid, col);

	add_step(p, PHASE_EXPAND,
			 dflt ? psprintf("ALTER TABLE %s ADD COLUMN %s %s; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
							 rel, qnew, hz->type_sql, rel, qnew, dflt) :
			 psprintf("ALTER TABLE %s ADD COLUMN %s %s", rel, qnew, hz->type_sql),
			 false, verify_column(rel, newcol, true),
			 psprintf("ALTER TABLE %s DROP COLUMN %s", rel, qnew));
	add_step(p, PHASE_EXPAND,
			 psprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.%s := NEW.%s; RETURN NEW; END$$; "
					  "CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s()",
					  qfn, qnew, qcol, qtrig, rel, qfn),
			 false,
			 psprintf("SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s)",
					  lit(rel), lit(fn)),
			 psprintf("DROP TRIGGER %s ON %s; DROP FUNCTION %s()", qtrig, rel, qfn));
	plan_fill(p, relid, rel, qnew, qcol,
			  psprintf("%s IS NULL AND %s IS NOT NULL", qnew, qcol));
	if (not_null)
		new_nn = plan_not_null(p, rel, relid, relname, newcol);
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
	/* the new column's not-null constraint takes the old one's name */
	if (not_null)
		old_nn = query_text(psprintf("SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = $1 "
									 "AND contype = 'n' AND conkey = '{%d}'", attnum), relid);
#endif

	/*
	 * The swap: the application goes on writing the column by its name,
	 * which is now the new one; the old one must take no value from then on
	 */
	initStringInfo(&sw);
	appendStringInfo(&sw, "DROP TRIGGER %s ON %s; DROP FUNCTION %s(); ", qtrig, rel, qfn);
	if (not_null || dflt)
		appendStringInfo(&sw, "ALTER TABLE %s%s%s%s%s; ", rel,
						 not_null ? psprintf(" ALTER COLUMN %s DROP NOT NULL", qcol) : "",
						 not_null && dflt ? "," : "",
						 dflt ? psprintf(" ALTER COLUMN %s DROP DEFAULT", qcol) : "",
						 "");
	appendStringInfo(&sw, "ALTER TABLE %s RENAME COLUMN %s TO %s; ALTER TABLE %s RENAME COLUMN %s TO %s",
					 rel, qcol, qold, rel, qnew, qcol);
	if (new_nn != NULL && old_nn != NULL)
		appendStringInfo(&sw, "; ALTER TABLE %s RENAME CONSTRAINT %s TO %s",
						 rel, quote_identifier(new_nn), quote_identifier(old_nn));
	{
		PlanStep   *s = add_step(p, PHASE_SWITCH,
								 acknowledged(RULE_RENAME_COLUMN,
											  psprintf("%s of %s swapped for its new type", col, relname),
											  sw.data),
								 false,
								 psprintf("SELECT atttypid = %s::regtype "
										  "FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
										  lit(hz->type_sql), lit(rel), lit(col)),
								 psprintf("irreversible: rows written after the swap have no value in %s.", qold));

		s->deploy = psprintf("Code that reads and writes %s as the new type %s.", qcol, hz->type_sql);
	}
	add_step(p, PHASE_CONTRACT,
			 acknowledged(RULE_DROP_COLUMN, psprintf("the old %s of %s, replaced", col, relname),
						  psprintf("ALTER TABLE %s DROP COLUMN %s", rel, qold)),
			 false, verify_column(rel, oldcol, false),
			 psprintf("irreversible: the values of %s are gone.", qold));
	return true;
}

/* The columns of an index, named as PostgreSQL names them for its name */
static List *
index_column_names(IndexStmt *stmt)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, stmt->indexParams)
	{
		IndexElem  *ie = lfirst_node(IndexElem, lc);

		cols = lappend(cols, ie->name ? ie->name :
					   ie->indexcolname ? ie->indexcolname :
					   FigureIndexColname(ie->expr));
	}
	return cols;
}

/* The name PostgreSQL gives an index the statement leaves unnamed */
static char *
index_name(IndexStmt *stmt, Oid relid, const char *relname)
{
	List	   *cols;

	if (stmt->idxname)
		return stmt->idxname;
	cols = index_column_names(stmt);
	if (stmt->primary)
		return ChooseRelationName(relname, NULL, "pkey", rel_namespace(relid), true);
	return ChooseRelationName(relname, joined_names(cols),
							  stmt->isconstraint ? "key" : "idx",
							  rel_namespace(relid), stmt->isconstraint);
}

/*
 * The partitions' share of an index on a partitioned table: on each leaf
 * an index built CONCURRENTLY under the name PostgreSQL would give it, then
 * attached to the parent's; a sub-partitioned child gets an index ON ONLY
 * it, and the same one level down.  The parent's index is valid once the
 * last one is attached.
 */
static bool
plan_partition_indexes(Planner *p, Oid relid, const char *parent_idx,
					   IndexStmt *stmt, const char *tail, List *cols)
{
	ListCell   *lc;

	foreach(lc, find_inheritance_children(relid, NoLock))
	{
		Oid			child = lfirst_oid(lc);
		char		kind = get_rel_relkind(child);
		char	   *childname = get_rel_name(child);
		char	   *idx = ChooseRelationName(childname, joined_names(cols), "idx",
											 get_rel_namespace(child), false);
		char	   *qidx = psprintf("%s%s", schema_prefix(child), quote_identifier(idx));
		char	   *rel = rel_quoted_name(child);

		if (kind == RELKIND_PARTITIONED_TABLE)
		{
			add_step(p, PHASE_EXPAND,
					 psprintf("CREATE %sINDEX %s ON ONLY %s %s", stmt->unique ? "UNIQUE " : "",
							  quote_identifier(idx), rel, tail),
					 false, verify_exists(qidx), psprintf("DROP INDEX %s", qidx));
			if (!plan_partition_indexes(p, child, qidx, stmt, tail, cols))
				return false;
		}
		else if (kind == RELKIND_RELATION)
			add_step(p, PHASE_EXPAND,
					 psprintf("CREATE %sINDEX CONCURRENTLY %s ON %s %s", stmt->unique ? "UNIQUE " : "",
							  quote_identifier(idx), rel, tail),
					 true, verify_index_valid(qidx),
					 psprintf("DROP INDEX CONCURRENTLY %s", qidx));
		else
			return false;
		add_step(p, PHASE_EXPAND,
				 psprintf("ALTER INDEX %s ATTACH PARTITION %s", parent_idx, qidx),
				 false,
				 psprintf("SELECT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = %s::regclass AND inhparent = %s::regclass)",
						  lit(qidx), lit(parent_idx)),
				 psprintf("irreversible: an index partition cannot be detached; DROP INDEX %s drops them all, to start again.",
						  parent_idx));
	}
	return true;
}

/* CREATE INDEX on a partitioned table: ON ONLY it, then each partition's */
static bool
plan_partitioned_index(Planner *p, Oid relid, IndexStmt *stmt)
{
	char	   *relname = get_rel_name(relid);
	char	   *idx = index_name(stmt, relid, relname);
	char	   *qidx = psprintf("%s%s", schema_prefix(relid), quote_identifier(idx));
	char	   *tail;

	if (p->script == NULL || stmt->relation->location < 0 || stmt->concurrent ||
		stmt->if_not_exists || stmt->tableSpace != NULL)
		return false;
	tail = sql_after_name(p->script, stmt->relation->location);
	if (tail == NULL || tail[0] == '\0')
		return false;
	add_step(p, stmt->unique ? PHASE_CONSTRAIN : PHASE_EXPAND,
			 psprintf("CREATE %sINDEX %s ON ONLY %s %s", stmt->unique ? "UNIQUE " : "",
					  quote_identifier(idx), rel_quoted_name(relid), tail),
			 false, verify_exists(qidx), psprintf("DROP INDEX %s", qidx));
	return plan_partition_indexes(p, relid, qidx, stmt, tail, index_column_names(stmt));
}

/* CREATE INDEX that blocks writes for its build: CONCURRENTLY */
static bool
plan_create_index(Planner *p, const RelEffect *eff, IndexStmt *stmt,
				  const char *sql)
{
	Oid			relid = eff->relid;
	char	   *relname;
	char	   *idx;
	char	   *qidx;
	char	   *text;
	char	   *named;

	if (!OidIsValid(relid))
		return false;
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return plan_partitioned_index(p, relid, stmt);
	relname = get_rel_name(relid);
	idx = index_name(stmt, relid, relname);
	qidx = psprintf("%s%s", schema_prefix(relid), quote_identifier(idx));
	/* the user's text, CONCURRENTLY and the name put in */
	text = sql_insert_before_word(sql, "INDEX", 1, "CONCURRENTLY ");
	if (text == NULL)
		return false;
	named = stmt->idxname ? text :
		sql_insert_before_word(text, "ON", 0, psprintf("%s ", quote_identifier(idx)));
	if (named == NULL)
		return false;
	add_step(p, stmt->unique ? PHASE_CONSTRAIN : PHASE_EXPAND, named, true,
			 verify_index_valid(qidx),
			 psprintf("DROP INDEX CONCURRENTLY %s", qidx));
	return true;
}

/*
 * UNIQUE or PRIMARY KEY added to a table: its index built CONCURRENTLY,
 * then the constraint made of it (a primary key's columns made NOT NULL
 * first, without a scan under ACCESS EXCLUSIVE)
 */
static bool
plan_key(Planner *p, const RelEffect *eff, Constraint *con)
{
	Oid			relid = eff->relid;
	const char *rel = eff->relname;
	char	   *relname;
	char	   *name;
	char	   *qidx;
	List	   *cols;
	bool		pk = con->contype == CONSTR_PRIMARY;
	ListCell   *lc;

	if (!OidIsValid(relid) || con->keys == NIL || con->including != NIL ||
		con->options != NIL || con->indexspace != NULL || con->deferrable ||
		con->indexname != NULL || con->nulls_not_distinct ||
		get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return false;
	relname = get_rel_name(relid);
	cols = string_values(con->keys);
	name = con->conname ? con->conname :
		pk ? ChooseRelationName(relname, NULL, "pkey", rel_namespace(relid), true) :
		ChooseRelationName(relname, joined_names(cols), "key", rel_namespace(relid), true);
	qidx = psprintf("%s%s", schema_prefix(relid), quote_identifier(name));
	if (pk)
	{
		foreach(lc, cols)
		{
			const char *col = (const char *) lfirst(lc);
			AttrNumber	attnum = get_attnum(relid, col);
			HeapTuple	tup;
			bool		nn = false;

			if (attnum == InvalidAttrNumber)
				return false;
			tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
			if (HeapTupleIsValid(tup))
			{
				nn = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
				ReleaseSysCache(tup);
			}
			if (!nn)
				plan_not_null(p, rel, relid, relname, col);
		}
	}
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s)",
					  quote_identifier(name), rel, quoted_list(cols)),
			 true, verify_index_valid(qidx),
			 psprintf("DROP INDEX CONCURRENTLY %s", qidx));
	add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s",
					  rel, quote_identifier(name), pk ? "PRIMARY KEY" : "UNIQUE",
					  quote_identifier(name)),
			 false, verify_constraint(rel, name, true),
			 /* dropping the constraint drops its index: build it again */
			 psprintf("irreversible: ALTER TABLE %s DROP CONSTRAINT %s drops its index too; "
					  "build it again as the step before does.", rel, quote_identifier(name)));
	return true;
}

/* ADD CONSTRAINT: CHECK and FOREIGN KEY NOT VALID, keys through an index */
static bool
plan_add_constraint(Planner *p, const RelEffect *eff, AlterTableCmd *cmd,
					const char *cmd_sql)
{
	Constraint *con = castNode(Constraint, cmd->def);
	Oid			relid = eff->relid;
	char	   *relname = OidIsValid(relid) ? get_rel_name(relid) : NULL;
	char	   *definition;
	char	   *name;

	if (relname == NULL)
		return false;
	if (con->contype == CONSTR_PRIMARY || con->contype == CONSTR_UNIQUE)
		return plan_key(p, eff, con);
	if (con->contype != CONSTR_CHECK && con->contype != CONSTR_FOREIGN)
		return false;
	if (cmd_sql == NULL || (definition = sql_constraint_definition(cmd_sql)) == NULL)
		return false;
	if (con->conname)
		name = con->conname;
	else if (con->contype == CONSTR_FOREIGN)
		name = ChooseConstraintName(relname, joined_names(string_values(con->fk_attrs)),
									"fkey", rel_namespace(relid), NIL);
	else
		return false;			/* PostgreSQL names it after the columns it reads */
	plan_not_valid(p, eff->relname, name, definition);
	return true;
}

/*
 * A warning's statement, after the deploy it needs: running the step says
 * that the deploy is done, and the audit keeps that as its reason
 */
static void
plan_after_deploy(Planner *p, PlanPhase phase, int rule, const char *sql,
				  char *verify, char *undo, char *deploy)
{
	PlanStep   *s = add_step(p, phase,
							 rule >= 0 ? acknowledged(rule, psprintf("after the deploy of: %s", deploy), sql) :
							 pstrdup(sql),
							 false, verify, undo);

	s->deploy = deploy;
}

/*
 * UPDATE of a large table in one statement: backfill() in batches along
 * its primary key instead, each batch committed
 */
static bool
plan_update(Planner *p, UpdateStmt *stmt, const char *sql)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	char	   *set_clause;
	char	   *where_clause;
	char	   *rel;
	RelSize		size;

	if (!OidIsValid(relid) || stmt->fromClause != NIL || mg_update_returns(stmt) ||
		stmt->withClause != NULL || stmt->relation->alias != NULL ||
		!stmt->relation->inh || get_rel_relkind(relid) != RELKIND_RELATION)
		return false;
	size = measure_relation(relid);
	if (size.bytes <= (int64) mg_large_table_threshold * 1024)
		return false;
	if (!has_primary_key(relid) || !sql_cut_update(sql, &set_clause, &where_clause))
		return false;
	rel = rel_quoted_name(relid);
	{
		PlanStep   *s = add_step(p, PHASE_BACKFILL,
								 psprintf("CALL migration_guard.backfill(%s, %s%s%s)",
										  lit(rel), lit(set_clause),
										  where_clause ? ", " : "",
										  where_clause ? lit(where_clause) : ""),
								 true,
								 psprintf("SELECT coalesce((SELECT status = 'done' FROM migration_guard.backfill_runs "
										  "WHERE relation_oid = %s::regclass AND set_clause = %s "
										  "AND where_clause IS NOT DISTINCT FROM %s ORDER BY id DESC LIMIT 1), false)",
										  lit(rel), lit(set_clause),
										  where_clause ? lit(where_clause) : "NULL"),
								 "irreversible: the values the UPDATE overwrites are not kept; copy them first if you may need them.");

		s->relation = rel;
	}
	return true;
}

/*
 * DETACH PARTITION: CONCURRENTLY, which leaves the partition's bound on it
 * as a CHECK (named as PostgreSQL names a CHECK on the key's column); the
 * naive DETACH leaves none, so a second step drops it.  The detach is
 * undone by an ATTACH, which that CHECK spares the scan.
 */
static bool
plan_detach(Planner *p, const char *parent, Oid parentid, PartitionCmd *pc)
{
	Oid			partid = RangeVarGetRelid(pc->name, NoLock, true);
	char	   *part;
	char	   *bound;
	char	   *check;
	char	   *keycol;
	char	   *con;
	const char *qcon;

	if (pc->concurrent || !OidIsValid(partid) || !OidIsValid(parentid))
		return false;
	part = rel_quoted_name(partid);
	bound = query_text("SELECT pg_catalog.pg_get_expr(relpartbound, oid) FROM pg_catalog.pg_class WHERE oid = $1",
					   partid);
	check = query_text("SELECT pg_catalog.pg_get_partition_constraintdef($1)", partid);
	keycol = query_text("SELECT CASE WHEN partnatts = 1 AND partattrs[0] <> 0 THEN "
						"(SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = partrelid AND attnum = partattrs[0]) END "
						"FROM pg_catalog.pg_partitioned_table WHERE partrelid = $1", parentid);
	if (bound == NULL || check == NULL)
		return false;
	con = ChooseConstraintName(get_rel_name(partid), keycol, "check",
							   get_rel_namespace(partid), NIL);
	qcon = quote_identifier(con);
	add_step(p, PHASE_CONTRACT,
			 psprintf("ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY", parent, part),
			 true,
			 psprintf("SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = %s::regclass)",
					  lit(part)),
			 psprintf("ALTER TABLE %s ATTACH PARTITION %s %s; ALTER TABLE %s DROP CONSTRAINT %s",
					  parent, part, bound, part, qcon));
	add_step(p, PHASE_CONTRACT,
			 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", part, qcon),
			 false, verify_no_constraint(part, con),
			 psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s",
					  part, qcon, check, part, qcon));
	return true;
}

/* One subcommand of ALTER TABLE, safe or not */
static bool
plan_alter_cmd(Planner *p, const RelEffect *eff, AlterTableCmd *cmd,
			   const char *cmd_sql, List *hazards, char **why)
{
	const char *rel = eff->relname;
	Oid			relid = eff->relid;
	Hazard	   *hz = hazards ? (Hazard *) linitial(hazards) : NULL;

	if (hz == NULL)
	{
		PlanPhase	phase = PHASE_EXPAND;

		if (cmd_sql == NULL)
			return false;
		if (cmd->subtype == AT_AddConstraint || is_validate_cmd(cmd) ||
			cmd->subtype == AT_SetNotNull)
			phase = PHASE_CONSTRAIN;
		else if (cmd->subtype == AT_DropColumn || cmd->subtype == AT_DropConstraint ||
				 cmd->subtype == AT_DropNotNull)
			phase = PHASE_CONTRACT;
		if (cmd->subtype == AT_AddColumn && !((ColumnDef *) cmd->def)->is_not_null &&
			!cmd->missing_ok)
		{
			const char *col = ((ColumnDef *) cmd->def)->colname;

			add_step(p, phase, psprintf("ALTER TABLE %s %s", rel, cmd_sql), false,
					 verify_column(rel, col, true),
					 psprintf("ALTER TABLE %s DROP COLUMN %s", rel, quote_identifier(col)));
		}
		else if (cmd->subtype == AT_AddConstraint &&
				 ((Constraint *) cmd->def)->conname != NULL)
		{
			const char *con = ((Constraint *) cmd->def)->conname;

			add_step(p, phase, psprintf("ALTER TABLE %s %s", rel, cmd_sql), false,
					 verify_constraint(rel, con, false),
					 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", rel, quote_identifier(con)));
		}
		else
			add_step(p, phase, psprintf("ALTER TABLE %s %s", rel, cmd_sql), false,
					 NULL, NULL);
		return true;
	}
	switch (cmd->subtype)
	{
		case AT_AddColumn:
			return plan_add_column(p, eff, cmd, hazards);
		case AT_AlterColumnType:
			return plan_column_type(p, eff, cmd, hz, why);
		case AT_SetNotNull:
			if (!OidIsValid(relid))
				return false;
			plan_not_null(p, rel, relid, get_rel_name(relid), cmd->name);
			return true;
		case AT_AddConstraint:
			return plan_add_constraint(p, eff, cmd, cmd_sql);
		case AT_DropColumn:
			plan_after_deploy(p, PHASE_CONTRACT, RULE_DROP_COLUMN,
							  psprintf("ALTER TABLE %s %s", rel, cmd_sql),
							  verify_column(rel, cmd->name, false),
							  psprintf("irreversible: the values of %s are gone; "
									   "keep a copy (pg_dump --table=%s) if you may need them.",
									   quote_identifier(cmd->name), rel),
							  psprintf("Code that no longer reads or writes %s (Rails: ignored_columns; Prisma and Django: the field removed).",
									   quote_identifier(cmd->name)));
			return true;
		case AT_DetachPartition:
			return plan_detach(p, rel, relid, (PartitionCmd *) cmd->def);
		default:
			return false;
	}
}

/* One text value of a one-row query, or NULL */
static char *
query_text(const char *query, Oid relid)
{
	char	   *result = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	SPI_connect();
	if (SPI_execute_with_args(query, 1, (Oid[]) {OIDOID},
							  (Datum[]) {ObjectIdGetDatum(relid)},
							  NULL, true, 1) == SPI_OK_SELECT && SPI_processed > 0)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			result = MemoryContextStrdup(cxt, v);
	}
	SPI_finish();
	return result;
}

/*
 * ATTACH PARTITION that would scan the partition under ACCESS EXCLUSIVE: a
 * validated CHECK matching the bound first, which the attach takes as
 * proof; dropped with the attach in one transaction
 */
static bool
plan_attach(Planner *p, const char *parent, const RelEffect *part_eff,
			const Hazard *hz, const char *cmd_sql)
{
	Oid			relid = part_eff->relid;
	const char *rel = part_eff->relname;
	char	   *con;
	const char *qcon;
	PlanStep   *attach;

	if (!OidIsValid(relid) || hz->why != NULL || hz->expr_sql == NULL || cmd_sql == NULL)
		return false;
	con = ChooseConstraintName(get_rel_name(relid), NULL, "partition_bound",
							   get_rel_namespace(relid), NIL);
	qcon = quote_identifier(con);
	plan_not_valid(p, rel, con, psprintf("CHECK (%s)", hz->expr_sql));
	attach = add_step(p, PHASE_CONSTRAIN,
			 psprintf("ALTER TABLE %s %s; ALTER TABLE %s DROP CONSTRAINT %s",
					  parent, cmd_sql, rel, qcon),
			 false,
			 psprintf("SELECT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = %s::regclass AND inhparent = %s::regclass)",
					  lit(rel), lit(parent)),
			 acknowledged(RULE_DETACH_PARTITION, "undoing an attach",
						  psprintf("ALTER TABLE %s DETACH PARTITION %s; "
								   "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) NOT VALID; "
								   "ALTER TABLE %s VALIDATE CONSTRAINT %s",
								   parent, rel, rel, qcon, hz->expr_sql, rel, qcon)));
	attach->proved_rule = RULE_ATTACH_PARTITION;
	return true;
}

/* DROP INDEX: CONCURRENTLY, one index per statement */
static bool
plan_drop_index(Planner *p, DropStmt *stmt, List *found)
{
	ListCell   *lc;

	if (stmt->concurrent || stmt->behavior == DROP_CASCADE)
		return false;
	foreach(lc, found)
	{
		Finding    *f = (Finding *) linitial((List *) lfirst(lc));
		Hazard	   *hz = (Hazard *) lsecond((List *) lfirst(lc));
		char	   *idx;
		char	   *def;

		if (hz->rule != RULE_DROP_INDEX || !OidIsValid(hz->other_relid))
			return false;
		(void) f;
		idx = rel_quoted_name(hz->other_relid);
		def = query_text("SELECT pg_catalog.pg_get_indexdef($1)", hz->other_relid);
		add_step(p, PHASE_CONTRACT,
				 psprintf("DROP INDEX CONCURRENTLY %s%s", stmt->missing_ok ? "IF EXISTS " : "", idx),
				 true, verify_gone(idx),
				 def ? sql_insert_before_word(def, "INDEX", 1, "CONCURRENTLY ") :
				 pstrdup("irreversible: the index definition could not be read."));
	}
	return found != NIL;
}

/* Hazards the plan answers, as (Finding, Hazard) pairs */
static List *
plan_hazards(List *findings)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, findings)
	{
		Finding    *f = (Finding *) lfirst(lc);
		ListCell   *hc;

		/* about the moment or the transaction, not the statement */
		if (f->rule < 0 || f->rule == RULE_LOCK_QUEUE ||
			f->rule == RULE_EXCLUSIVE_LOCK_HELD || f->effect == NULL)
			continue;
		/*
		 * Allowed, or let through on a table nobody has used yet (a fresh
		 * restore, a staging copy): the plan is for when it is in use
		 */
		if (f->verdict == VERDICT_OK && !f->allowed && !f->unused)
			continue;
		foreach(hc, f->effect->hazards)
		{
			Hazard	   *hz = (Hazard *) lfirst(hc);

			if (hz->rule == f->rule)
			{
				result = lappend(result, list_make2(f, hz));
				break;
			}
		}
	}
	return result;
}

/* Is the hazard caused by this ALTER TABLE subcommand? */
static bool
caused_by(const Hazard *hz, AlterTableCmd *cmd)
{
	if (hz->cause == (Node *) cmd)
		return true;
	if (cmd->subtype == AT_AddColumn || cmd->subtype == AT_AlterColumnType)
	{
		ColumnDef  *def = (ColumnDef *) cmd->def;

		return hz->cause == (Node *) def ||
			(def && list_member_ptr(def->constraints, hz->cause));
	}
	if (cmd->subtype == AT_AddConstraint)
		return hz->cause == cmd->def;
	return false;
}

static bool
plan_alter_table(Planner *p, AlterTableStmt *stmt, const char *sql,
				 List *found, char **why)
{
	List	   *texts = sql_split_alter_cmds(sql);
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	RelEffect	main = {0};
	ListCell   *lc;
	int			i = 0;

	if (list_length(texts) != list_length(stmt->cmds))
		return false;
	main.relid = relid;
	main.relname = OidIsValid(relid) ? rel_quoted_name(relid) :
		quote_qualified_identifier(stmt->relation->schemaname, stmt->relation->relname);
	main.display = stmt->relation->relname;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		const char *cmd_sql = (const char *) list_nth(texts, i++);
		List	   *hazards = NIL;
		const RelEffect *eff = &main;
		ListCell   *fc;

		foreach(fc, found)
		{
			Finding    *f = (Finding *) linitial((List *) lfirst(fc));
			Hazard	   *hz = (Hazard *) lsecond((List *) lfirst(fc));

			if (caused_by(hz, cmd))
			{
				if (cmd->subtype == AT_AttachPartition)
					return plan_attach(p, main.relname, f->effect, hz, cmd_sql);
				hazards = lappend(hazards, hz);
				if (f->effect->relid == relid)
					eff = f->effect;
			}
		}
		if (!plan_alter_cmd(p, eff, cmd, cmd_sql, hazards, why))
			return false;
	}
	return true;
}

/* Which phase a statement the guard lets through belongs to */
static PlanPhase
phase_of(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
			return PHASE_BACKFILL;
		case T_DropStmt:
		case T_TruncateStmt:
			return PHASE_CONTRACT;
		case T_RenameStmt:
			return PHASE_SWITCH;
		default:
			return PHASE_EXPAND;
	}
}

/* Does the name denote a table that an earlier statement creates? */
static bool
made_by_script(Planner *p, RangeVar *rv)
{
	ListCell   *lc;

	foreach(lc, p->made)
	{
		RangeVar   *made = (RangeVar *) lfirst(lc);

		if (strcmp(made->relname, rv->relname) == 0 &&
			((made->schemaname == NULL && rv->schemaname == NULL) ||
			 (made->schemaname && rv->schemaname &&
			  strcmp(made->schemaname, rv->schemaname) == 0)))
			return true;
	}
	return false;
}

/* Plan one statement of the naive script: check_script()'s callback */
static void
plan_statement(const ScriptRow *row, void *arg)
{
	Planner    *p = (Planner *) arg;
	Node	   *stmt = row->stmt;
	List	   *found;
	int			before = list_length(p->steps);
	bool		planned = false;
	char	   *why = NULL;

	p->statement = row->stmtno;
	p->script = row->script;
	/* the plan decides the transactions; the guard's settings are the DBA's */
	if (IsA(stmt, TransactionStmt) || IsA(stmt, VariableSetStmt))
		return;
	if (row->verdict != NULL)
	{
		cannot_plan(p, row->sql, stmt,
					strcmp(row->verdict, "error") == 0 ?
					psprintf("PostgreSQL would raise an error for this statement: %s", row->message) :
					psprintf("migration_guard cannot plan this %s: %s %s", row->command,
							 row->message, row->hint ? row->hint : ""));
		return;
	}
	/*
	 * A table the script creates is empty until the plan's backfill phase
	 * fills it: its indexes and constraints come with it, in the expand
	 * phase, where they cost nothing (after the fill they would be judged
	 * on its rows, which the dry run cannot count)
	 */
	p->on_made = false;
	if (IsA(stmt, CreateStmt))
		p->made = lappend(p->made, ((CreateStmt *) stmt)->relation);
	else if (IsA(stmt, AlterTableStmt))
		p->on_made = made_by_script(p, ((AlterTableStmt *) stmt)->relation);
	else if (IsA(stmt, IndexStmt))
		p->on_made = made_by_script(p, ((IndexStmt *) stmt)->relation);

	found = plan_hazards(row->findings);
	if (found == NIL)
	{
		if (IsA(stmt, UpdateStmt) && plan_update(p, (UpdateStmt *) stmt, row->sql))
			return;
		/* one subcommand: with the verify and undo of its kind */
		if (IsA(stmt, AlterTableStmt) &&
			list_length(((AlterTableStmt *) stmt)->cmds) == 1 &&
			((AlterTableStmt *) stmt)->objtype == OBJECT_TABLE &&
			plan_alter_table(p, (AlterTableStmt *) stmt, row->sql, NIL, &why))
			return;
		p->steps = list_truncate(p->steps, before);
		as_written(p, phase_of(stmt), row->sql, stmt);
		if (IsA(stmt, RenameStmt))
			p->floor = Max(p->floor, PHASE_SWITCH);
		return;
	}

	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
			planned = plan_alter_table(p, (AlterTableStmt *) stmt, row->sql, found, &why);
			break;
		case T_IndexStmt:
			{
				Finding    *f = (Finding *) linitial((List *) linitial(found));

				planned = list_length(found) == 1 &&
					plan_create_index(p, f->effect, (IndexStmt *) stmt, row->sql);
			}
			break;
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) stmt;
				Finding    *f = (Finding *) linitial((List *) linitial(found));

				if (ds->removeType == OBJECT_INDEX)
					planned = plan_drop_index(p, ds, found);
				else if (ds->removeType == OBJECT_TABLE)
				{
					plan_after_deploy(p, PHASE_CONTRACT, f->rule, row->sql,
									  verify_gone(f->effect->relname),
									  "irreversible: the table and its rows are gone; keep a copy (pg_dump --table) if you may need them.",
									  psprintf("Code that no longer uses table %s.", f->effect->relname));
					planned = true;
				}
			}
			break;
		case T_TruncateStmt:
			{
				Finding    *f = (Finding *) linitial((List *) linitial(found));

				plan_after_deploy(p, PHASE_CONTRACT, f->rule, row->sql, NULL,
								  "irreversible: the rows are gone; keep a copy if you may need them.",
								  psprintf("Code that no longer needs the rows of %s.", f->effect->relname));
				planned = true;
			}
			break;
		case T_ReindexStmt:
			{
				ReindexStmt *rs = (ReindexStmt *) stmt;
				char	   *conc = sql_insert_before_word(row->sql, "REINDEX", 2, "CONCURRENTLY ");

				if (conc && !option_is_set(rs->params, "concurrently"))
				{
					add_step(p, PHASE_EXPAND, conc, true,
							 rs->kind == REINDEX_OBJECT_INDEX ?
							 verify_index_valid(quote_qualified_identifier(rs->relation->schemaname,
																		   rs->relation->relname)) : NULL,
							 "nothing to undo: the index is built again with the same definition.");
					planned = true;
				}
			}
			break;
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *rm = (RefreshMatViewStmt *) stmt;
				Finding    *f = (Finding *) linitial((List *) linitial(found));
				char	   *usable = OidIsValid(f->effect->relid) ?
				query_text("SELECT 'yes' FROM pg_catalog.pg_index WHERE indrelid = $1 AND indisunique "
						   "AND indisvalid AND indpred IS NULL AND indexprs IS NULL LIMIT 1",
						   f->effect->relid) : NULL;

				if (!rm->concurrent && !rm->skipData && usable != NULL)
				{
					add_step(p, PHASE_EXPAND,
							 psprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s", f->effect->relname),
							 false, NULL,
							 "nothing to undo: the view holds the result of its query again.");
					planned = true;
				}
				else if (usable == NULL)
					why = psprintf("REFRESH CONCURRENTLY needs a unique index on %s that covers every row (no WHERE, no expression): create one with CREATE UNIQUE INDEX CONCURRENTLY first.",
								   f->effect->relname);
			}
			break;
		case T_RenameStmt:
			{
				RenameStmt *rn = (RenameStmt *) stmt;
				Finding    *f = (Finding *) linitial((List *) linitial(found));
				const char *rel = f->effect->relname;

				if (rn->renameType == OBJECT_COLUMN && rn->relationType == OBJECT_TABLE)
				{
					plan_after_deploy(p, PHASE_SWITCH, f->rule, row->sql,
									  verify_column(rel, rn->newname, true),
									  psprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", rel,
											   quote_identifier(rn->newname),
											   quote_identifier(rn->subname)),
									  psprintf("None that can run on both names: from this step on every query that names %s fails. "
											   "Deploy the code that names %s right after it, or, to avoid errors in between, "
											   "add %s, write both, backfill and switch by hand.",
											   quote_identifier(rn->subname), quote_identifier(rn->newname),
											   quote_identifier(rn->newname)));
					planned = true;
				}
				else if (rn->renameType == OBJECT_TABLE && OidIsValid(f->effect->relid))
				{
					char	   *prefix = schema_prefix(f->effect->relid);
					char	   *newrel = psprintf("%s%s", prefix, quote_identifier(rn->newname));

					add_step(p, PHASE_SWITCH,
							 acknowledged(RULE_RENAME_TABLE, "a view keeps the old name working",
										  psprintf("ALTER TABLE %s RENAME TO %s; CREATE VIEW %s AS SELECT * FROM %s",
												   rel, quote_identifier(rn->newname), rel, newrel)),
							 false, verify_exists(newrel),
							 psprintf("DROP VIEW %s; ALTER TABLE %s RENAME TO %s", rel, newrel,
									  quote_identifier(get_rel_name(f->effect->relid))));
					plan_after_deploy(p, PHASE_CONTRACT, -1, psprintf("DROP VIEW %s", rel),
									  verify_gone(rel),
									  psprintf("CREATE VIEW %s AS SELECT * FROM %s", rel, newrel),
									  psprintf("Code that uses the new name %s.", newrel));
					planned = true;
				}
				p->floor = Max(p->floor, PHASE_SWITCH);
			}
			break;
		default:
			break;
	}
	if (!planned)
	{
		Finding    *f = (Finding *) linitial((List *) linitial(found));

		p->steps = list_truncate(p->steps, before);
		cannot_plan(p, row->sql, stmt,
					psprintf("migration_guard cannot plan this %s: %s%s%s", row->command,
							 why ? why : "it has no step-by-step form here yet.",
							 f->recipe ? " Its safe form, by hand: " : "",
							 f->recipe ? f->recipe : ""));
	}
}

/* ---------- merging, ordering, and the plan's own dry run ---------- */

/*
 * One backfill per table: the column fills of a table join the first of
 * them, each column set only on the rows that still need it
 */
static List *
merge_fills(List *steps)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		ListCell   *kc;
		bool		merged = false;

		if (s->fill_rel != NULL)
		{
			foreach(kc, kept)
			{
				PlanStep   *k = (PlanStep *) lfirst(kc);

				if (k->fill_rel != NULL && k->fill_relid == s->fill_relid &&
					strcmp(k->fill_rel, s->fill_rel) == 0)
				{
					k->fill_cols = list_concat(k->fill_cols, s->fill_cols);
					k->fill_values = list_concat(k->fill_values, s->fill_values);
					k->fill_conds = list_concat(k->fill_conds, s->fill_conds);
					merged = true;
					break;
				}
			}
		}
		if (!merged)
			kept = lappend(kept, s);
	}
	foreach(lc, kept)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		StringInfoData set;
		StringInfoData where;
		int			n;
		int			i;

		if (s->fill_rel == NULL)
			continue;
		n = list_length(s->fill_cols);
		initStringInfo(&set);
		initStringInfo(&where);
		for (i = 0; i < n; i++)
		{
			const char *col = list_nth(s->fill_cols, i);
			const char *value = list_nth(s->fill_values, i);
			const char *cond = list_nth(s->fill_conds, i);

			if (n == 1)
				appendStringInfo(&set, "%s = %s", col, value);
			else
				appendStringInfo(&set, "%s%s = CASE WHEN %s THEN %s ELSE %s END",
								 i ? ", " : "", col, cond, value, col);
			appendStringInfo(&where, n == 1 ? "%s%s" : "%s(%s)", i ? " OR " : "", cond);
		}
		s->sql = psprintf("CALL migration_guard.backfill(%s, %s, %s)",
						  lit(s->fill_rel), lit(set.data), lit(where.data));
		s->verify = psprintf("SELECT NOT EXISTS (SELECT FROM %s WHERE %s)",
							 s->fill_rel, where.data);
		s->relation = s->fill_rel;
	}
	return kept;
}

static int
step_order(const ListCell *a, const ListCell *b)
{
	const PlanStep *x = (const PlanStep *) lfirst(a);
	const PlanStep *y = (const PlanStep *) lfirst(b);

	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct PlanRun
{
	PlanStep  **steps;
	int			n;
} PlanRun;

/* The step whose text holds the given line of the plan's script */
static PlanStep *
step_at_line(PlanRun *run, int line)
{
	int			i;

	for (i = run->n - 1; i >= 0; i--)
		if (run->steps[i]->first_line <= line)
			return run->steps[i];
	return NULL;
}

/* check_script()'s callback for the plan: each step's lock, and its refusals */
static void
note_step_lock(const ScriptRow *row, void *arg)
{
	PlanStep   *s = step_at_line((PlanRun *) arg, row->line);
	ListCell   *lc;

	/* a step already noted is the statement as written: judged as such */
	if (s == NULL || row->verdict != NULL || s->note != NULL)
		return;
	foreach(lc, row->findings)
	{
		Finding    *f = (Finding *) lfirst(lc);
		RelEffect  *eff = f->effect;

		if (eff == NULL)
			continue;
		if (s->proved_rule != 0 && f->rule == s->proved_rule)
		{
			s->lockmode = Max(s->lockmode, eff->lockmode);
			s->relation = eff->relname;
			s->hold = "instant";
			continue;
		}
		if (eff->lockmode > s->lockmode)
		{
			s->lockmode = eff->lockmode;
			s->relation = eff->relname;
			/* TRUNCATE's new file is empty: no time in proportion */
			s->hold = (eff->rewrite || eff->scan) && !IsA(row->stmt, TruncateStmt) ?
				"proportional" : "instant";
			s->has_bytes = OidIsValid(eff->relid);
			s->bytes = f->size.bytes;
		}
		/* a step the guard would still refuse is a planner bug: say so */
		if (f->rule >= 0 && f->rule != RULE_LOCK_QUEUE && !f->allowed &&
			(f->verdict == VERDICT_BLOCK ||
			 (f->verdict == VERDICT_WARN && s->deploy == NULL)))
			s->note = psprintf("%s%sthe guard would %s this step: %s",
							   s->note ? s->note : "", s->note ? " " : "",
							   f->verdict == VERDICT_BLOCK ? "refuse" : "warn about",
							   f->message);
	}
}

static void
dry_run_plan(List *steps, Datum sizes)
{
	StringInfoData script;
	PlanRun		run;
	ListCell   *lc;
	int			line = 1;

	initStringInfo(&script);
	run.n = 0;
	run.steps = palloc(sizeof(PlanStep *) * (list_length(steps) + 1));
	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		bool		wrap = !s->outside && strchr(s->sql, ';') != NULL &&
		pg_strncasecmp(s->sql, "BEGIN", 5) != 0;
		const char *c;

		s->first_line = line;
		run.steps[run.n++] = s;
		appendStringInfo(&script, "%s%s;%s\n", wrap ? "BEGIN; " : "", s->sql,
						 wrap ? " COMMIT;" : "");
		for (c = s->sql; *c; c++)
			if (*c == '\n')
				line++;
		line++;
	}
	check_script(script.data, false, sizes, note_step_lock, &run);
}

/*
 * migration_guard.plan(sql text, sizes jsonb): the steps of the safe plan
 * for a migration script
 */
Datum
mg_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		sizes = PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_DATUM(1) : (Datum) 0;
	Planner		planner = {0};
	List	   *steps;
	ListCell   *lc;
	int			stepno = 0;

	mg_init_materialized_srf(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();

	/* each statement of the plan runs on its own: judge the script so */
	check_script(text_to_cstring(PG_GETARG_TEXT_PP(0)), false, sizes,
				 plan_statement, &planner);
	steps = merge_fills(planner.steps);
	list_sort(steps, step_order);
	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);

		if (s->fill_rel != NULL || strncmp(s->sql, "CALL migration_guard.backfill(", 30) == 0)
		{
			s->lockmode = RowExclusiveLock;
			s->hold = "per batch";
		}
	}
	dry_run_plan(steps, sizes);

	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		Datum		values[13];
		bool		nulls[13] = {0};

		values[0] = Int32GetDatum(++stepno);
		values[1] = CStringGetTextDatum(phase_names[s->phase]);
		values[2] = Int32GetDatum(s->statement);
		values[3] = CStringGetTextDatum(s->sql);
		values[4] = BoolGetDatum(s->outside);
		nulls[5] = s->relation == NULL;
		values[5] = nulls[5] ? (Datum) 0 : CStringGetTextDatum(s->relation);
		nulls[6] = s->lockmode == NoLock;
		values[6] = nulls[6] ? (Datum) 0 : CStringGetTextDatum(lock_mode_name(s->lockmode));
		nulls[7] = s->hold == NULL;
		values[7] = nulls[7] ? (Datum) 0 : CStringGetTextDatum(s->hold);
		nulls[8] = !s->has_bytes;
		values[8] = Int64GetDatum(s->bytes);
		nulls[9] = s->verify == NULL;
		values[9] = nulls[9] ? (Datum) 0 : CStringGetTextDatum(s->verify);
		nulls[10] = s->undo == NULL;
		values[10] = nulls[10] ? (Datum) 0 : CStringGetTextDatum(s->undo);
		nulls[11] = s->deploy == NULL;
		values[11] = nulls[11] ? (Datum) 0 : CStringGetTextDatum(s->deploy);
		nulls[12] = s->note == NULL;
		values[12] = nulls[12] ? (Datum) 0 : CStringGetTextDatum(s->note);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
