/*-------------------------------------------------------------------------
 *
 * plan_steps.c
 *	  The steps of each statement family's safe form, for plan.c: the SQL
 *	  of each step, its transaction shape, its verify query and its undo.
 *
 * Names the plan writes are the ones PostgreSQL itself would choose
 * (ChooseRelationName(), ChooseConstraintName(), as DefineIndex() and
 * AddRelationNewConstraints() call them), so that the plan ends with the
 * catalog the naive script would have made; relations are named with
 * their schema, since each step may run in a session of its own.  The
 * catalog is read through the syscache and SPI, without a lock on a user
 * relation (the partition bound that DETACH reads excepted: see
 * detach_check_name()).
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/plan_steps.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_target.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "migration_guard.h"
#include "pg_compat.h"
#include "plan_int.h"


/* A step of the statement being planned, in its phase */
PlanStep *
add_step(Planner *p, PlanPhase phase, char *sql, bool outside,
		 char *verify, char *undo)
{
	PlanStep   *s = palloc0(sizeof(PlanStep));

	s->phase = p->on_made && phase < PHASE_SWITCH ? PHASE_EXPAND : phase;

	/*
	 * After a switch or a contract step (a rename, a swap, a drop), the
	 * later statements may use the new name or the freed one: they stay
	 * after it, whatever their phase
	 */
	s->rank = Max(s->phase, p->floor);
	if (s->phase >= PHASE_SWITCH)
		p->next_floor = Max(p->next_floor, s->phase);
	s->statement = p->statement;
	s->seq = p->seq++;
	s->sql = sql;
	s->outside = outside;
	s->verify = verify;
	s->undo = undo;
	p->steps = lappend(p->steps, s);
	return s;
}

/* A string literal, quoted for the SQL the plan writes */
const char *
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

/*
 * The queries that verify a step: one boolean, true once it has taken
 * effect
 */
static char *
column_exists(const char *rel, const char *col)
{
	return psprintf("EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attname = %s AND NOT attisdropped)",
					lit(rel), lit(col));
}

static char *
verify_column(const char *rel, const char *col, bool present)
{
	return psprintf("SELECT %s%s", present ? "" : "NOT ", column_exists(rel, col));
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
PlanStep *
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

/* Which phase a statement the guard lets through belongs to */
PlanPhase
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

/* A statement the guard cannot plan: as written, with the reason */
void
cannot_plan(Planner *p, const char *sql, Node *stmt, const char *why)
{
	PlanStep   *s = as_written(p, phase_of(stmt), sql, stmt);

	s->note = pstrdup(why);
}

/*
 * A name in the schema of a relation, quoted and qualified: the steps run
 * in sessions whose search_path the plan cannot know (a script's own SET
 * search_path is not carried over), so every name it writes is qualified
 */
static char *
name_beside(Oid relid, const char *name)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

/* The relation's own name, so */
static char *
qualified(Oid relid)
{
	return name_beside(relid, get_rel_name(relid));
}

/*
 * The effect with the relation's name qualified, for the SQL of the plan;
 * a relation the script creates keeps the name as the script wrote it
 */
RelEffect *
planned_effect(const RelEffect *eff)
{
	RelEffect  *copy = palloc(sizeof(RelEffect));

	*copy = *eff;
	if (OidIsValid(eff->relid) && get_rel_name(eff->relid) != NULL)
		copy->relname = qualified(eff->relid);
	return copy;
}

/* Where ChooseRelationName() and such look for names already taken */
static Oid
rel_namespace(Oid relid)
{
	/* a relation the script creates: the default creation schema */
	return OidIsValid(relid) ? get_rel_namespace(relid) :
		RangeVarGetCreationNamespace(makeRangeVar(NULL, "", -1));
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

/* Column names as a quoted list, for a key or an index */
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

/* A parse tree's list of String nodes as C strings */
static List *
string_values(List *strings)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, strings)
		out = lappend(out, strVal(lfirst(lc)));
	return out;
}

/*
 * The first column of the first row of a catalog query, as text, or NULL:
 * what the plan reads beyond the syscache (defaults, bounds, definitions)
 */
static char *
query_value(const char *query, int nargs, Oid *types, Datum *values)
{
	char	   *result = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(query, nargs, types, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed > 0)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			result = MemoryContextStrdup(cxt, v);
	}
	SPI_finish();
	return result;
}

/* The same with one relation for $1 */
static char *
query_text(const char *query, Oid relid)
{
	return query_value(query, 1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(relid)});
}

/* Walker: the distinct column names a raw expression reads */
static bool
columns_read_walker(Node *node, void *context)
{
	List	  **names = (List **) context;

	if (node == NULL)
		return false;
	if (IsA(node, ColumnRef))
	{
		Node	   *last = llast(((ColumnRef *) node)->fields);

		/* a whole-row or qualified star: not one column */
		*names = list_append_unique(*names,
									IsA(last, String) ? last : (Node *) makeString("*"));
		return false;
	}
	return raw_expression_tree_walker(node, columns_read_walker, context);
}

/*
 * The name PostgreSQL gives an unnamed CHECK (AddRelationNewConstraints):
 * after the one column it reads, if it reads exactly one
 */
static char *
check_name(const char *relname, Oid nspid, Node *raw_expr)
{
	List	   *names = NIL;
	const char *colname = NULL;

	(void) columns_read_walker(raw_expr, &names);
	if (list_length(names) == 1 && strcmp(strVal(linitial(names)), "*") != 0)
		colname = strVal(linitial(names));
	return ChooseConstraintName(relname, colname, "check", nspid, NIL);
}

/* ---------- the safe forms ---------- */

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

#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
	plan_not_valid(p, rel, con, psprintf("NOT NULL %s", qcol));
#else
	const char *qcon = quote_identifier(con);

	plan_not_valid(p, rel, con, psprintf("CHECK (%s IS NOT NULL)", qcol));
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

/* A column filled in batches: merged per table before it is written out */
static void
plan_fill(Planner *p, Oid relid, const char *rel, const char *col,
		  const char *value, const char *cond)
{
	PlanStep   *s = add_step(p, PHASE_BACKFILL, NULL, true, NULL,
							 "nothing to undo: the values fill a column that an expand step adds, and undoing that step drops it.");

	s->backfill = true;
	s->fill_relid = relid;
	s->fill_rel = pstrdup(rel);
	s->fill_cols = list_make1(pstrdup(col));
	s->fill_values = list_make1(pstrdup(value));
	s->fill_conds = list_make1(pstrdup(cond));
}

/*
 * Is the column NOT NULL for good?  On 18 attnotnull is set for a NOT VALID
 * not-null constraint too, which proves nothing yet.
 */
static bool
column_is_not_null(Oid relid, const char *col)
{
	AttrNumber	attnum = get_attnum(relid, col);
	HeapTuple	tup;
	bool		not_null = false;

	if (attnum == InvalidAttrNumber)
		return false;
	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (HeapTupleIsValid(tup))
	{
		not_null = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
		ReleaseSysCache(tup);
	}
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
	if (not_null && rel_not_valid_not_null(relid, col) != NULL)
		not_null = false;
#endif
	return not_null;
}

/* Does the relation have a primary key, which backfill() walks? */
static bool
has_primary_key(Oid relid)
{
	/* from the catalog: the dry run takes no lock on a user relation */
	return OidIsValid(relid) &&
		query_text("SELECT 1 FROM pg_catalog.pg_index WHERE indrelid = $1 AND indisprimary", relid) != NULL;
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
					check_name(relname, rel_namespace(relid), con->raw_expr);
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
	AttrNumber	attnum = get_attnum(relid, col);

	if (attnum == InvalidAttrNumber)
		return NULL;
	return query_value(
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
		(Datum[]) {ObjectIdGetDatum(relid), Int16GetDatum(attnum)});
}

/* The column's default as SQL, or NULL */
static char *
column_default(Oid relid, const char *col)
{
	return query_value(
		"SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
		"WHERE d.adrelid = $1 AND a.attname = $2",
		2, (Oid[]) {OIDOID, TEXTOID},
		(Datum[]) {ObjectIdGetDatum(relid), CStringGetTextDatum(col)});
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
	not_null = column_is_not_null(relid, col);
	relname = get_rel_name(relid);
	newcol = psprintf("%s_new", col);
	oldcol = psprintf("%s_old", col);
	if (get_attnum(relid, newcol) != InvalidAttrNumber ||
		get_attnum(relid, oldcol) != InvalidAttrNumber)
	{
		*why = psprintf("The plan needs the column names %s and %s, and the table has one of them already.",
						quote_identifier(newcol), quote_identifier(oldcol));
		return false;
	}
	qnew = quote_identifier(newcol);
	qold = quote_identifier(oldcol);
	/* truncated to a name's length as PostgreSQL truncates its own */
	fn = makeObjectName(relname, newcol, "sync");
	qfn = name_beside(relid, fn);
	qtrig = pstrdup(quote_identifier(fn));
	dflt = column_default(relid, col);

	add_step(p, PHASE_EXPAND,
			 dflt ? psprintf("ALTER TABLE %s ADD COLUMN %s %s; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
							 rel, qnew, hz->type_sql, rel, qnew, dflt) :
			 psprintf("ALTER TABLE %s ADD COLUMN %s %s", rel, qnew, hz->type_sql),
			 false, verify_column(rel, newcol, true),
			 psprintf("ALTER TABLE %s DROP COLUMN %s", rel, qnew));
	add_step(p, PHASE_EXPAND,
			 psprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s; "
					  "CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s()",
					  qfn, lit(psprintf("BEGIN NEW.%s := NEW.%s; RETURN NEW; END", qnew, qcol)),
					  qtrig, rel, qfn),
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
									 "AND contype = 'n' AND conkey = '{%d}'", get_attnum(relid, col)),
							relid);
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
								 psprintf("SELECT %s AND NOT %s",
										  column_exists(rel, oldcol), column_exists(rel, newcol)),
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

/*
 * The columns of an index, named as PostgreSQL names them for the index's
 * name (ChooseIndexColumnNames): an expression by its function's name or
 * "expr", a name met before with a number after it
 */
static List *
index_column_names(IndexStmt *stmt)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, stmt->indexParams)
	{
		IndexElem  *ie = lfirst_node(IndexElem, lc);
		const char *orig = ie->indexcolname ? ie->indexcolname :
		ie->name ? ie->name :
		ie->expr ? FigureIndexColname(ie->expr) : NULL;
		char	   *name;
		int			i;

		if (orig == NULL)
			orig = "expr";
		name = pstrdup(orig);
		for (i = 1; list_member(cols, makeString(name)); i++)
		{
			char		suffix[16];
			int			len;

			snprintf(suffix, sizeof(suffix), "%d", i);
			len = pg_mbcliplen(orig, strlen(orig), NAMEDATALEN - 1 - strlen(suffix));
			name = psprintf("%.*s%s", len, orig, suffix);
		}
		cols = lappend(cols, makeString(name));
	}
	return string_values(cols);
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
					   IndexStmt *stmt, const char *tail, List *cols,
					   PlanPhase phase)
{
	ListCell   *lc;

	foreach(lc, find_inheritance_children(relid, NoLock))
	{
		Oid			child = lfirst_oid(lc);
		char		kind = get_rel_relkind(child);
		char	   *childname = get_rel_name(child);
		char	   *idx = ChooseRelationName(childname, joined_names(cols), "idx",
											 get_rel_namespace(child), false);
		char	   *qidx = name_beside(child, idx);
		char	   *rel = qualified(child);

		if (kind == RELKIND_PARTITIONED_TABLE)
		{
			add_step(p, phase,
					 psprintf("CREATE %sINDEX %s ON ONLY %s %s", stmt->unique ? "UNIQUE " : "",
							  quote_identifier(idx), rel, tail),
					 false, verify_exists(qidx), psprintf("DROP INDEX %s", qidx));
			if (!plan_partition_indexes(p, child, qidx, stmt, tail, cols, phase))
				return false;
		}
		else if (kind == RELKIND_RELATION)
			add_step(p, phase,
					 psprintf("CREATE %sINDEX CONCURRENTLY %s ON %s %s", stmt->unique ? "UNIQUE " : "",
							  quote_identifier(idx), rel, tail),
					 true, verify_index_valid(qidx),
					 psprintf("DROP INDEX CONCURRENTLY %s", qidx));
		else
			return false;
		add_step(p, phase,
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
	char	   *qidx = name_beside(relid, idx);
	char	   *tail;
	PlanPhase	phase = stmt->unique ? PHASE_CONSTRAIN : PHASE_EXPAND;

	if (p->script == NULL || stmt->relation->location < 0 || stmt->concurrent ||
		stmt->if_not_exists || stmt->tableSpace != NULL)
		return false;
	tail = sql_after_name(p->script, stmt->relation->location);
	if (tail == NULL || tail[0] == '\0')
		return false;
	add_step(p, phase,
			 psprintf("CREATE %sINDEX %s ON ONLY %s %s", stmt->unique ? "UNIQUE " : "",
					  quote_identifier(idx), qualified(relid), tail),
			 false, verify_exists(qidx), psprintf("DROP INDEX %s", qidx));
	return plan_partition_indexes(p, relid, qidx, stmt, tail, index_column_names(stmt),
								  phase);
}

/* CREATE INDEX that blocks writes for its build: CONCURRENTLY */
bool
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
	qidx = name_beside(relid, idx);
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
#ifdef MG_HAS_WITHOUT_OVERLAPS
		con->without_overlaps ||
#endif
		get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return false;
	relname = get_rel_name(relid);
	cols = string_values(con->keys);
	name = con->conname ? con->conname :
		pk ? ChooseRelationName(relname, NULL, "pkey", rel_namespace(relid), true) :
		ChooseRelationName(relname, joined_names(cols), "key", rel_namespace(relid), true);
	qidx = name_beside(relid, name);
	if (pk)
	{
		foreach(lc, cols)
		{
			const char *col = (const char *) lfirst(lc);

			if (get_attnum(relid, col) == InvalidAttrNumber)
				return false;
			if (!column_is_not_null(relid, col))
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
#ifndef MG_HAS_PARTITIONED_NOT_VALID_FK
	if (con->contype == CONSTR_FOREIGN &&
		get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return false;			/* NOT VALID on a partitioned table is 18's */
#endif
	if (cmd_sql == NULL || (definition = sql_constraint_definition(cmd_sql)) == NULL)
		return false;
	if (con->conname)
		name = con->conname;
	else if (con->contype == CONSTR_FOREIGN)
		name = ChooseConstraintName(relname, joined_names(string_values(con->fk_attrs)),
									"fkey", rel_namespace(relid), NIL);
	else
		name = check_name(relname, rel_namespace(relid), con->raw_expr);
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
							 rule >= 0 ? acknowledged(rule, "the deploy it needs is done", sql) :
							 pstrdup(sql),
							 false, verify, undo);

	s->deploy = deploy;
}

/* Walker: does a raw expression read the relation (in a subquery)? */
static bool
reads_relation_walker(Node *node, void *context)
{
	Oid			relid = *(Oid *) context;

	if (node == NULL)
		return false;
	if (IsA(node, RangeVar))
		return RangeVarGetRelid((RangeVar *) node, NoLock, true) == relid;
	return raw_expression_tree_walker(node, reads_relation_walker, context);
}

/*
 * UPDATE of a large table in one statement: backfill() in batches along
 * its primary key instead, each batch committed.  Not one that reads its
 * own table in a subquery: each batch would see what the ones before it
 * changed, which the single UPDATE does not.
 */
bool
plan_update(Planner *p, UpdateStmt *stmt, const char *sql, char **why)
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
	if (reads_relation_walker((Node *) stmt->targetList, &relid) ||
		reads_relation_walker(stmt->whereClause, &relid))
	{
		*why = psprintf("migration_guard cannot plan this UPDATE: it reads %s in a subquery, and in batches each batch would see what the batches before it changed. Run it in a quiet hour, or rewrite it so that it reads only the row it updates.",
						qualified(relid));
		return false;
	}
	rel = qualified(relid);
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
		s->backfill = true;
	}
	return true;
}

/*
 * The CHECK that DETACH ... CONCURRENTLY leaves on the partition, as
 * DetachAddConstraintIfNeeded() decides it: none when the partition's
 * constraints imply its bound already; otherwise named after the one
 * column the bound reads, if it reads one (AddRelationNewConstraints()).
 * Reading the bound needs the partition open: under ACCESS SHARE, only if
 * free at once, released straight after (as attach_is_proved() does).
 * False if it is busy or gone.
 */
static bool
detach_check_name(Oid partid, char **conname)
{
	Relation	part;
	List	   *qual;
	List	   *vars;
	char	   *colname = NULL;

	*conname = NULL;
	if (!ConditionalLockRelationOid(partid, AccessShareLock))
		return false;
	part = try_relation_open(partid, NoLock);
	if (part == NULL)
	{
		UnlockRelationOid(partid, AccessShareLock);
		return false;
	}
	qual = (List *) eval_const_expressions(NULL, (Node *) RelationGetPartitionQual(part));
	if (!PartConstraintImpliedByRelConstraint(part, qual))
	{
		vars = list_union(NIL, pull_var_clause((Node *) qual, 0));
		if (list_length(vars) == 1)
			colname = get_attname(partid, ((Var *) linitial(vars))->varattno, false);
		*conname = ChooseConstraintName(RelationGetRelationName(part), colname, "check",
										RelationGetNamespace(part), NIL);
	}
	relation_close(part, NoLock);
	UnlockRelationOid(partid, AccessShareLock);
	return true;
}

/*
 * DETACH PARTITION: CONCURRENTLY (not possible with a default partition),
 * which may leave the partition's bound on it as a CHECK; the naive DETACH
 * leaves none, so a second step drops it.  The detach is undone by an
 * ATTACH, which that CHECK spares the scan.
 */
static bool
plan_detach(Planner *p, const char *parent, Oid parentid, PartitionCmd *pc,
			char **why)
{
	Oid			partid = RangeVarGetRelid(pc->name, NoLock, true);
	char	   *part;
	char	   *bound;
	char	   *check;
	char	   *con;

	if (pc->concurrent || !OidIsValid(partid) || !OidIsValid(parentid))
		return false;
	if (OidIsValid(get_default_partition_oid(parentid)))
	{
		*why = "DETACH PARTITION CONCURRENTLY is not possible while the table has a default partition.";
		return false;
	}
	part = qualified(partid);
	bound = query_text("SELECT pg_catalog.pg_get_expr(relpartbound, oid) FROM pg_catalog.pg_class WHERE oid = $1",
					   partid);
	check = query_text("SELECT pg_catalog.pg_get_partition_constraintdef($1)", partid);
	if (bound == NULL || check == NULL || !detach_check_name(partid, &con))
		return false;
	add_step(p, PHASE_CONTRACT,
			 psprintf("ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY", parent, part),
			 true,
			 psprintf("SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = %s::regclass)",
					  lit(part)),
			 con ?
			 psprintf("ALTER TABLE %s ATTACH PARTITION %s %s; ALTER TABLE %s DROP CONSTRAINT %s",
					  parent, part, bound, part, quote_identifier(con)) :
			 psprintf("ALTER TABLE %s ATTACH PARTITION %s %s", parent, part, bound));
	if (con != NULL)
		add_step(p, PHASE_CONTRACT,
				 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", part, quote_identifier(con)),
				 false, verify_no_constraint(part, con),
				 psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s",
						  part, quote_identifier(con), check, part, quote_identifier(con)));
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
			return plan_detach(p, rel, relid, (PartitionCmd *) cmd->def, why);
		default:
			return false;
	}
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

/*
 * DROP INDEX: CONCURRENTLY, one index per statement, every index the
 * statement names; undone by building it again, CONCURRENTLY
 */
bool
plan_drop_index(Planner *p, DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->concurrent || stmt->behavior == DROP_CASCADE)
		return false;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			idxid = RangeVarGetRelid(rv, NoLock, true);
		char	   *idx;
		char	   *def;

		/* PostgreSQL drops an index of a partitioned table only at once */
		if (!OidIsValid(idxid) || get_rel_relkind(idxid) != RELKIND_INDEX)
			return false;
		idx = qualified(idxid);
		def = query_text("SELECT pg_catalog.pg_get_indexdef($1)", idxid);
		add_step(p, PHASE_CONTRACT,
				 psprintf("DROP INDEX CONCURRENTLY %s", idx),
				 true, verify_gone(idx),
				 def ? sql_insert_before_word(def, "INDEX", 1, "CONCURRENTLY ") :
				 pstrdup("irreversible: the index definition could not be read."));
	}
	return stmt->objects != NIL;
}

/* The tables a DROP TABLE or TRUNCATE names, qualified, for its messages */
static char *
named_tables(List *found)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, found)
	{
		Finding    *f = (Finding *) linitial((List *) lfirst(lc));
		char	   *name = OidIsValid(f->effect->relid) ? qualified(f->effect->relid) :
		f->effect->relname;

		if (strstr(buf.data, name) == NULL)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", name);
	}
	return buf.data;
}

/* DROP TABLE and TRUNCATE: as written, after the deploy they need */
bool
plan_deletes_rows(Planner *p, Node *stmt, const char *sql, List *found)
{
	Finding    *f = (Finding *) linitial((List *) linitial(found));
	char	   *tables = named_tables(found);

	if (IsA(stmt, DropStmt))
	{
		DropStmt   *ds = (DropStmt *) stmt;
		StringInfoData verify;
		ListCell   *lc;

		if (ds->removeType != OBJECT_TABLE)
			return false;
		initStringInfo(&verify);
		foreach(lc, ds->objects)
		{
			RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
			Oid			relid = RangeVarGetRelid(rv, NoLock, true);

			if (!OidIsValid(relid))
				continue;
			appendStringInfo(&verify, "%s%s", verify.len ? " AND " : "SELECT ",
							 psprintf("pg_catalog.to_regclass(%s) IS NULL", lit(qualified(relid))));
		}
		plan_after_deploy(p, PHASE_CONTRACT, f->rule, sql,
						  verify.len ? verify.data : NULL,
						  "irreversible: the tables and their rows are gone; keep a copy (pg_dump --table) if you may need them.",
						  psprintf("Code that no longer uses %s.", tables));
	}
	else
		plan_after_deploy(p, PHASE_CONTRACT, f->rule, sql, NULL,
						  "irreversible: the rows are gone; keep a copy if you may need them.",
						  psprintf("Code that no longer needs the rows of %s.", tables));
	return true;
}

/* REINDEX: CONCURRENTLY; with options of its own, left to the DBA */
bool
plan_reindex(Planner *p, ReindexStmt *rs, const char *sql)
{
	char	   *conc;

	if (rs->params != NIL)
		return false;
	conc = sql_insert_before_word(sql, "REINDEX", 2, "CONCURRENTLY ");
	if (conc == NULL)
		return false;
	add_step(p, PHASE_EXPAND, conc, true,
			 rs->kind == REINDEX_OBJECT_INDEX ?
			 verify_index_valid(quote_qualified_identifier(rs->relation->schemaname,
														   rs->relation->relname)) : NULL,
			 "nothing to undo: the index is built again with the same definition.");
	return true;
}

/*
 * REFRESH MATERIALIZED VIEW: CONCURRENTLY, which needs a unique index
 * covering every row, and a view populated already
 */
bool
plan_refresh(Planner *p, RefreshMatViewStmt *rm, const RelEffect *eff,
			 char **why)
{
	if (rm->concurrent || rm->skipData || !OidIsValid(eff->relid))
		return false;
	if (query_text("SELECT 1 FROM pg_catalog.pg_index WHERE indrelid = $1 AND indisunique "
				   "AND indisvalid AND indpred IS NULL AND indexprs IS NULL", eff->relid) == NULL)
	{
		*why = psprintf("REFRESH CONCURRENTLY needs a unique index on %s that covers every row (no WHERE, no expression): create one with CREATE UNIQUE INDEX CONCURRENTLY first.",
						qualified(eff->relid));
		return false;
	}
	if (query_text("SELECT 1 FROM pg_catalog.pg_class WHERE oid = $1 AND relispopulated", eff->relid) == NULL)
	{
		*why = "REFRESH CONCURRENTLY cannot populate a view that was never populated.";
		return false;
	}
	add_step(p, PHASE_EXPAND,
			 psprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s", qualified(eff->relid)),
			 false, NULL,
			 "nothing to undo: the view holds the result of its query again.");
	return true;
}

/*
 * RENAME: a column, as written after the deploy it needs (no form of it
 * lets code on both names run); a table, with a view under the old name
 * that keeps the old code working until the deploy
 */
bool
plan_rename(Planner *p, RenameStmt *rn, const char *sql, const Finding *f)
{
	Oid			relid = f->effect->relid;
	char	   *rel;

	if (!OidIsValid(relid))
		return false;
	rel = qualified(relid);
	if (rn->renameType == OBJECT_COLUMN && rn->relationType == OBJECT_TABLE)
	{
		plan_after_deploy(p, PHASE_SWITCH, f->rule, sql,
						  verify_column(rel, rn->newname, true),
						  psprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", rel,
								   quote_identifier(rn->newname),
								   quote_identifier(rn->subname)),
						  psprintf("None that can run on both names: from this step on every query that names %s fails. "
								   "Deploy the code that names %s right after it, or, to avoid errors in between, "
								   "add %s, write both, backfill and switch by hand.",
								   quote_identifier(rn->subname), quote_identifier(rn->newname),
								   quote_identifier(rn->newname)));
		return true;
	}
	if (rn->renameType == OBJECT_TABLE)
	{
		char	   *newrel = name_beside(relid, rn->newname);

		add_step(p, PHASE_SWITCH,
				 acknowledged(RULE_RENAME_TABLE, "a view keeps the old name working",
							  psprintf("ALTER TABLE %s RENAME TO %s; CREATE VIEW %s AS SELECT * FROM %s",
									   rel, quote_identifier(rn->newname), rel, newrel)),
				 false, verify_exists(newrel),
				 psprintf("DROP VIEW %s; ALTER TABLE %s RENAME TO %s", rel, newrel,
						  quote_identifier(get_rel_name(relid))));
		plan_after_deploy(p, PHASE_CONTRACT, -1, psprintf("DROP VIEW %s", rel),
						  verify_gone(rel),
						  psprintf("CREATE VIEW %s AS SELECT * FROM %s", rel, newrel),
						  psprintf("Code that uses the new name %s.", newrel));
		return true;
	}
	return false;
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

/*
 * ALTER TABLE, subcommand by subcommand (their text cut from the
 * statement's): a safe one as written, one the guard judges in its safe
 * form.  False if any cannot be planned: the statement is then a step as
 * written, with a note.
 */
bool
plan_alter_table(Planner *p, AlterTableStmt *stmt, const char *sql,
				 List *found, char **why)
{
	List	   *texts = sql_split_alter_cmds(sql);
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	RelEffect	main = {0};
	ListCell   *lc;
	int			i = 0;

	if (list_length(texts) != list_length(stmt->cmds) ||
		(stmt->missing_ok && !OidIsValid(relid)))
		return false;
	/* ONLY a table that has children: the plan's steps would reach them */
	if (!stmt->relation->inh && OidIsValid(relid) && has_subclass(relid))
		return false;
	main.relid = relid;
	main.relname = OidIsValid(relid) ? qualified(relid) :
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
					return plan_attach(p, main.relname, planned_effect(f->effect), hz, cmd_sql);
				hazards = lappend(hazards, hz);
				if (f->effect->relid == relid)
					eff = planned_effect(f->effect);
			}
		}
		if (!plan_alter_cmd(p, eff, cmd, cmd_sql, hazards, why))
			return false;
	}
	return true;
}

