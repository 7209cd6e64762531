/*-------------------------------------------------------------------------
 *
 * inspect.c
 *	  Inspect: from a DDL parse tree to what it will do to each relation.
 *
 * For every relation a statement touches we work out the strongest lock it
 * takes, whether it rewrites the relation (a new relfilenode), whether it
 * reads every row while holding that lock (validation, index build, copy),
 * and which hazards a rule may object to.  This file knows PostgreSQL's DDL
 * and nothing of policy: thresholds and verdicts live in rules.c.
 *
 * This file holds the shared machinery (effects, hazards, the script
 * state of check()), ALTER TABLE, CREATE INDEX, DROP and renames; the other
 * families have a file each: inspect_partition.c (ATTACH, DETACH),
 * inspect_maintenance.c (REINDEX, CLUSTER, VACUUM FULL, REFRESH, TRUNCATE,
 * ALL IN TABLESPACE), inspect_cascade.c (DROP ... CASCADE, DROP OWNED),
 * inspect_domain.c (ALTER DOMAIN) and inspect_lock_only.c (statements
 * judged for their lock alone).
 *
 * Wherever PostgreSQL exposes its own answer we use it: AlterTableGetLockLevel
 * for ALTER TABLE locks, the parser's transformExpr and coercion machinery
 * plus contain_volatile_functions for defaults, expression_planner for type
 * changes (as ATPrepAlterColumnType does), PartConstraintImpliedByRelConstraint
 * for ATTACH PARTITION.  Where a decision of tablecmds.c is static, it is
 * mirrored here with a reference to the original.
 *
 * Rules for this file:
 *	- never take a lock the statement would not take, never wait on one;
 *	- never modify the parse tree (it may belong to a cached plan): copy
 *	  before handing anything to the parser;
 *	- a name that does not resolve is not our error to raise: the statement
 *	  will raise PostgreSQL's own.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/sysattr.h"
#include "catalog/pg_collation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/genam.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "parser/parse_utilcmd.h"
#include "partitioning/partbounds.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/ruleutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "inspect_int.h"

/*---- Effects ----*/

/*
 * The schema a name lives in, for comparing script names: its own schema
 * if qualified, else the first schema of the search_path, where CREATE puts
 * it and where an unqualified reference finds it first.
 */
static Oid
script_namespace(RangeVar *rv)
{
	List	   *path;

	if (rv->schemaname != NULL)
		return get_namespace_oid(rv->schemaname, true);
	path = fetch_search_path(false);
	return path != NIL ? linitial_oid(path) : InvalidOid;
}

/*
 * The relations a script creates, by name (a hash table: a script that
 * creates tens of thousands of tables is looked up once per statement)
 */
typedef struct CreatedName
{
	char		relname[NAMEDATALEN];	/* the key */
	List	   *rvs;			/* RangeVar *, each schema it was created in */
	List	   *committed;		/* those whose creating transaction ended */
} CreatedName;

/*
 * A hash table of a script's state, made on first use in the dry run's
 * memory: keyed by a relation name (HASH_STRINGS) or an Oid (HASH_BLOBS)
 */
static HTAB *
script_hash(const char *name, Size keysize, Size entrysize, int keykind)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, 64, &ctl, HASH_ELEM | keykind | HASH_CONTEXT);
}

static void
note_created(ScriptState *script, RangeVar *rv)
{
	CreatedName *entry;
	bool		found;

	if (script->created == NULL)
		script->created = script_hash("migration_guard script relations",
									  NAMEDATALEN, sizeof(CreatedName),
									  HASH_STRINGS);
	entry = hash_search(script->created, rv->relname, HASH_ENTER, &found);
	if (!found)
		entry->rvs = entry->committed = NIL;
	entry->rvs = lappend(entry->rvs, rv);
}

/*
 * The script's transaction ended: the relations it created are there for
 * everyone now, empty, and judged as any other (a rename warns)
 */
void
inspect_script_commit(ScriptState *script)
{
	HASH_SEQ_STATUS status;
	CreatedName *entry;

	if (script->created == NULL)
		return;
	hash_seq_init(&status, script->created);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		entry->committed = list_concat(entry->committed, entry->rvs);
		entry->rvs = NIL;
	}
}

/* A type an earlier statement of the script created */
static void
note_type(ScriptState *script, List *names, TypeName *base, bool checked)
{
	ScriptType *st = palloc(sizeof(ScriptType));

	st->names = names;
	st->base = base;
	st->checked = checked;
	script->types = lappend(script->types, st);
}

/* A relation name an earlier statement of the script made, renamed or moved */
static void
note_named(ScriptState *script, const char *relname)
{
	if (strlen(relname) >= NAMEDATALEN)
		return;
	if (script->named == NULL)
		script->named = script_hash("migration_guard script names",
									NAMEDATALEN, NAMEDATALEN, HASH_STRINGS);
	(void) hash_search(script->named, relname, HASH_ENTER, NULL);
}

/*
 * Could an earlier statement of the script have made a relation of this
 * name?  By the bare name, in any schema: a statement it could not see
 * into (a DO block, RESET ALL) could have made any.
 */
static bool
script_may_name(ScriptState *script, RangeVar *rv)
{
	return script->opaque ||
		(script->named != NULL && strlen(rv->relname) < NAMEDATALEN &&
		 hash_search(script->named, rv->relname, HASH_FIND, NULL) != NULL);
}

static bool
same_relation_name(RangeVar *c, RangeVar *rv)
{
	return strcmp(c->relname, rv->relname) == 0 &&
		((c->schemaname == NULL) == (rv->schemaname == NULL) ?
		 (c->schemaname == NULL || strcmp(c->schemaname, rv->schemaname) == 0) :
		 script_namespace(c) == script_namespace(rv));
}

/*
 * Was a relation of this name created by an earlier statement of the
 * script?  *is_new (if given) says whether in the transaction still open.
 */
static bool
script_created(ScriptState *script, RangeVar *rv, bool *is_new)
{
	CreatedName *entry;
	ListCell   *lc;

	if (script == NULL || script->created == NULL ||
		strlen(rv->relname) >= NAMEDATALEN)
		return false;
	entry = hash_search(script->created, rv->relname, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	foreach(lc, entry->rvs)
	{
		if (same_relation_name((RangeVar *) lfirst(lc), rv))
		{
			if (is_new)
				*is_new = true;
			return true;
		}
	}
	foreach(lc, entry->committed)
	{
		if (same_relation_name((RangeVar *) lfirst(lc), rv))
		{
			if (is_new)
				*is_new = false;
			return true;
		}
	}
	return false;
}

static bool
created_in_script(ScriptState *script, RangeVar *rv)
{
	return script_created(script, rv, NULL);
}

static Oid	script_relid(ScriptState *script, RangeVar *rv);

/*
 * A relation an earlier statement of the script dropped or renamed away:
 * its name is no longer one the script made, until a later statement makes
 * it again
 */
static Oid
note_gone(ScriptState *script, RangeVar *rv)
{
	Oid			relid;

	if (created_in_script(script, rv))
		return InvalidOid;
	relid = script_relid(script, rv);
	if (script->named != NULL && strlen(rv->relname) < NAMEDATALEN)
		(void) hash_search(script->named, rv->relname, HASH_REMOVE, NULL);
	if (script->renamed != NULL && strlen(rv->relname) < NAMEDATALEN)
		(void) hash_search(script->renamed, rv->relname, HASH_REMOVE, NULL);
	if (!OidIsValid(relid))
		return InvalidOid;
	if (script->gone == NULL)
		script->gone = script_hash("migration_guard script gone relations",
								   sizeof(Oid), sizeof(Oid), HASH_BLOBS);
	(void) hash_search(script->gone, &relid, HASH_ENTER, NULL);
	return relid;
}

/* An existing relation an earlier statement of the script renamed to this */
typedef struct RenamedName
{
	char		relname[NAMEDATALEN];	/* the key: its new name */
	Oid			relid;
} RenamedName;

static void
note_renamed(ScriptState *script, const char *newname, Oid relid)
{
	RenamedName *entry;

	if (!OidIsValid(relid) || strlen(newname) >= NAMEDATALEN)
		return;
	if (script->renamed == NULL)
		script->renamed = script_hash("migration_guard script renamed relations",
									  NAMEDATALEN, sizeof(RenamedName),
									  HASH_STRINGS);
	entry = hash_search(script->renamed, newname, HASH_ENTER, NULL);
	entry->relid = relid;
}

static bool
script_made_gone(ScriptState *script, Oid relid)
{
	return script != NULL && script->gone != NULL &&
		hash_search(script->gone, &relid, HASH_FIND, NULL) != NULL;
}

/*
 * The existing relation a name means at this point of the script: the
 * catalog's, unless an earlier statement dropped or renamed it away (and
 * none made the name again); else the one an earlier statement renamed to
 * it.  InvalidOid if none.
 */
static Oid
script_relid(ScriptState *script, RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	RenamedName *entry;

	if (script == NULL)
		return relid;
	if (OidIsValid(relid) && script_made_gone(script, relid) &&
		!script_may_name(script, rv))
		relid = InvalidOid;
	if (!OidIsValid(relid) && script->renamed != NULL &&
		strlen(rv->relname) < NAMEDATALEN &&
		(entry = hash_search(script->renamed, rv->relname, HASH_FIND, NULL)) != NULL)
		relid = entry->relid;
	return relid;
}

/*
 * check() only: is a relation of this name already there where CREATE
 * TABLE would make it, at this point of the script?  One an earlier
 * statement created, or one of the catalog that no earlier statement
 * dropped or renamed away.  After a statement the dry run cannot see into
 * (a DO block), any name may be free.
 */
static bool
script_name_taken(ScriptState *script, RangeVar *rv)
{
	Oid			nspid;
	Oid			relid;

	if (script->opaque || rv->relpersistence == RELPERSISTENCE_TEMP)
		return false;
	if (script_created(script, rv, NULL))
		return true;
	if (script->renamed != NULL && strlen(rv->relname) < NAMEDATALEN &&
		hash_search(script->renamed, rv->relname, HASH_FIND, NULL) != NULL)
		return true;
	if (rv->schemaname != NULL)
		nspid = get_namespace_oid(rv->schemaname, true);
	else
		nspid = RangeVarGetCreationNamespace(rv);
	if (!OidIsValid(nspid))
		return false;			/* a schema the script makes */
	relid = get_relname_relid(rv->relname, nspid);
	return OidIsValid(relid) && !script_made_gone(script, relid);
}

/* The type of a column an earlier statement of the script added, if known */
static Oid
script_column_type(ScriptState *script, Oid relid, const char *colname)
{
	ListCell   *lc;

	foreach(lc, script ? script->columns : NIL)
	{
		ScriptColumn *sc = (ScriptColumn *) lfirst(lc);

		if (sc->relid == relid && strcmp(sc->colname, colname) == 0)
			return LookupTypeNameOid(NULL, sc->type, true);
	}
	return InvalidOid;
}

/*
 * Would SET NOT NULL on this column skip its scan?  In a check() script,
 * CHECKs that earlier statements added or validated count too: the phased
 * plan's "CHECK (col IS NOT NULL) NOT VALID; VALIDATE; SET NOT NULL" is
 * free when it runs, and must read so in the dry run.
 */
static bool
not_null_proved(Inspection *insp, Oid relid, const char *colname)
{
	List	   *also_validated = NIL;
	ListCell   *lc;

	/*
	 * A not-null constraint that the script added NOT VALID and has not
	 * validated: SET NOT NULL validates it with a scan, whatever proves it
	 */
	foreach(lc, insp->script ? insp->script->constraints : NIL)
	{
		ScriptConstraint *sc = (ScriptConstraint *) lfirst(lc);

		if (sc->relid == relid && sc->contype == CONSTR_NOTNULL &&
			!sc->validated && list_length(sc->columns) == 1 &&
			strcmp(strVal(linitial(sc->columns)), colname) == 0)
			return false;
	}
	foreach(lc, insp->script ? insp->script->constraints : NIL)
	{
		ScriptConstraint *sc = (ScriptConstraint *) lfirst(lc);
		ListCell   *cc;

		if (sc->relid != relid || !sc->validated)
			continue;
		if (sc->in_catalog)
			also_validated = lappend(also_validated, makeString(sc->conname));
		foreach(cc, sc->columns)
		{
			if (strcmp(strVal(lfirst(cc)), colname) == 0)
			{
				AttrNumber	attnum = get_attnum(relid, colname);

				/*
				 * PostgreSQL proves with a NullTest on the column's Var,
				 * which a composite column's IS NOT NULL (a row test) does
				 * not match; a column the script added has the type it
				 * was added with
				 */
				Oid			type = attnum != InvalidAttrNumber ?
				get_atttype(relid, attnum) :
				script_column_type(insp->script, relid, colname);

				if (OidIsValid(type) && !type_is_rowtype(type))
					return true;
			}
		}
	}
	return rel_not_null_proved(relid, colname, also_validated);
}

/* What a message calls a relation of this kind: most are tables */
static const char *
relation_noun(char relkind)
{
	switch (relkind)
	{
		case RELKIND_VIEW:
			return "view";
		case RELKIND_MATVIEW:
			return "materialized view";
		case RELKIND_SEQUENCE:
			return "sequence";
		case RELKIND_INDEX:
		case RELKIND_PARTITIONED_INDEX:
			return "index";
		case RELKIND_FOREIGN_TABLE:
			return "foreign table";
		default:
			return "table";
	}
}

/*
 * The effect on a relation, found or created.  One relation appears once
 * per statement; later calls strengthen its lock.
 */
RelEffect *
effect_for(Inspection *insp, Oid relid, RangeVar *rv, LOCKMODE lockmode)
{
	RelEffect  *eff;
	ListCell   *lc;
	bool		created_new;

	if (OidIsValid(relid))
	{
		foreach(lc, insp->effects)
		{
			eff = (RelEffect *) lfirst(lc);
			if (eff->relid == relid)
			{
				eff->lockmode = Max(eff->lockmode, lockmode);
				return eff;
			}
		}
	}

	eff = palloc0(sizeof(RelEffect));
	eff->command = insp->command;
	eff->stmt_sql = insp->sql;
	eff->relid = relid;
	eff->lockmode = lockmode;
	eff->noun = relation_noun(OidIsValid(relid) ? get_rel_relkind(relid) :
							  RELKIND_RELATION);
	if (OidIsValid(relid))
	{
		rel_names(relid, &eff->relname, &eff->display);
		eff->is_new = rel_is_invisible_to_others(relid);
	}
	else
	{
		eff->relname = rv ? quote_qualified_identifier(rv->schemaname,
													   rv->relname)
			: pstrdup("?");
		eff->display = rv ? (rv->schemaname ?
							 psprintf("%s.%s", rv->schemaname, rv->relname) :
							 pstrdup(rv->relname)) : pstrdup("?");
		eff->is_new = true;
	}
	if (rv != NULL && script_created(insp->script, rv, &created_new))
		eff->is_new = created_new;
	insp->effects = lappend(insp->effects, eff);
	return eff;
}

/*
 * Resolve a RangeVar without locking.  A relation that does not exist is
 * reported only in a check() script (as new, if an earlier statement
 * creates it); in the hook the statement will fail on its own.
 */
RelEffect *
effect_for_rangevar(Inspection *insp, RangeVar *rv, LOCKMODE lockmode)
{
	Oid			relid;

	if (created_in_script(insp->script, rv))
		relid = InvalidOid;
	else
		relid = script_relid(insp->script, rv);
	if (!OidIsValid(relid) && insp->script == NULL)
		return NULL;

	/*
	 * In a script, a relation that is not there and that no earlier
	 * statement made is PostgreSQL's error, as it will be when the script
	 * runs: a dry run pointed at the wrong database must not pass.  So is
	 * one an earlier statement dropped or renamed away, unless another made
	 * the name again.
	 */
	if (!OidIsValid(relid) && insp->script != NULL && !insp->missing_ok &&
		!script_may_name(insp->script, rv) &&
		OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
	{
		if (rv->schemaname != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s.%s\" does not exist",
							rv->schemaname, rv->relname)));
		else
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist",
							rv->relname)));
	}
	if (!OidIsValid(relid) && !insp->missing_ok &&
		!script_may_name(insp->script, rv))
		(void) RangeVarGetRelid(rv, NoLock, false);
	return effect_for(insp, relid, rv, lockmode);
}

Hazard *
add_hazard(RelEffect *eff, RuleId rule, Node *cause, const char *cause_sql,
		   const char *subject, Oid other_relid)
{
	Hazard	   *hz = palloc0(sizeof(Hazard));

	hz->rule = rule;
	hz->cause = cause;
	hz->cause_sql = cause_sql ? pstrdup(cause_sql) : NULL;
	hz->subject = subject ? pstrdup(subject) : NULL;
	hz->other_relid = other_relid;
	eff->hazards = lappend(eff->hazards, hz);
	return hz;
}

/* A DefElem option list (REINDEX, CLUSTER, VACUUM) names this flag as true */
bool
option_is_set(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, name) == 0)
			return opt->arg == NULL || defGetBoolean(opt);
	}
	return false;
}

/*---- ALTER TABLE ----*/

/*
 * Dropping a foreign key, or a column or table that carries one, removes
 * the key's triggers from the other table too (RemoveTriggerById), under
 * ACCESS EXCLUSIVE: a hidden lock on a table the statement does not name.
 * With side 'o' this finds the tables relid's keys reference (optionally
 * only keys on column attnum, or named conname); with side 'i' the tables
 * whose keys reference relid (dropped with CASCADE).
 */
static void
lock_fk_partners(Inspection *insp, Oid relid, char side, AttrNumber attnum,
				 const char *conname)
{
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		has_triggers = true;

	/*
	 * A foreign key has its triggers on both tables (check triggers on the
	 * referencing one, action triggers on the referenced one, partitioned
	 * or not), so a table without triggers has none: spare the scan of
	 * pg_constraint.
	 */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		has_triggers = ((Form_pg_class) GETSTRUCT(tup))->relhastriggers;
		ReleaseSysCache(tup);
	}
	if (!has_triggers)
		return;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key,
				side == 'o' ? Anum_pg_constraint_conrelid : Anum_pg_constraint_confrelid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel,
							  side == 'o' ? ConstraintRelidTypidNameIndexId : InvalidOid,
							  side == 'o', NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		Oid			partner = side == 'o' ? con->confrelid : con->conrelid;

		if (con->contype != CONSTRAINT_FOREIGN || partner == relid)
			continue;
		if (conname != NULL && strcmp(NameStr(con->conname), conname) != 0)
			continue;
		if (attnum != InvalidAttrNumber)
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, Anum_pg_constraint_conkey,
										 RelationGetDescr(conrel), &isnull);
			ArrayType  *arr;
			int16	   *keys;
			int			i;
			bool		found = false;

			if (isnull)
				continue;
			arr = DatumGetArrayTypeP(d);
			keys = (int16 *) ARR_DATA_PTR(arr);
			for (i = 0; i < ARR_DIMS(arr)[0]; i++)
				found |= (keys[i] == attnum);
			if (!found)
				continue;
		}
		(void) effect_for(insp, partner, NULL, AccessExclusiveLock);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
}


/* The access method of an index, from its pg_class row */
Oid
index_am(Oid indexid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexid));
	Oid			am = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		am = ((Form_pg_class) GETSTRUCT(tup))->relam;
		ReleaseSysCache(tup);
	}
	return am;
}


/* Is this raw type name one of the serial pseudo-types? */
static bool
typename_is_serial(TypeName *tn)
{
	char	   *schemaname;
	char	   *name;

	if (tn->arrayBounds != NIL || tn->pct_type)
		return false;
	DeconstructQualifiedName(tn->names, &schemaname, &name);
	if (schemaname != NULL && strcmp(schemaname, "pg_catalog") != 0)
		return false;
	return strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0 ||
		strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0 ||
		strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0;
}

/* Type OID and typmod of a raw type name, InvalidOid if it does not exist */
static Oid
lookup_type(TypeName *tn, int32 *typmod)
{
	Type		tup = LookupTypeName(NULL, tn, typmod, true);
	Oid			typid;

	if (tup == NULL)
		return InvalidOid;
	typid = typeTypeId(tup);
	ReleaseSysCache(tup);
	return typid;
}

/*
 * Cook a raw column default the way cookDefault() does (it takes no lock:
 * a default cannot reference the table), so that its volatility is
 * PostgreSQL's own answer.  NULL if it cannot be coerced to the column's
 * type; a default that does not parse raises the error PostgreSQL would
 * (check() turns such errors into a row of their own).
 */
static Node *
cook_default(Node *raw, Oid typid, int32 typmod)
{
	ParseState *pstate = make_parsestate(NULL);
	Node	   *expr;

	expr = transformExpr(pstate, copyObject(raw), EXPR_KIND_COLUMN_DEFAULT);
	expr = coerce_to_target_type(pstate, expr, exprType(expr),
								 typid, typmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	free_parsestate(pstate);
	return expr;
}

/*
 * ADD COLUMN: rewrite when the default cannot be stored as a "missing"
 * value (ATExecAddColumn): a volatile default, identity, GENERATED ALWAYS
 * AS ... STORED, or a domain with constraints; a NOT NULL column without a
 * stored default is verified by a scan.  Inline constraints add their own
 * effects.
 */
static void
inspect_add_column(Inspection *insp, RelEffect *eff, ColumnDef *def,
				   const char *cmd_sql, char relkind)
{
	Node	   *raw_default = NULL;
	bool		rewrite = false;
	bool		not_null = def->is_not_null;
	bool		stored_default = false;
	bool		unique = false;
	Constraint *fk = NULL;
	Constraint *check = NULL;
	Oid			typid = InvalidOid;
	int32		typmod = -1;
	char	   *why = NULL;
	char	   *type_sql = NULL;
	char	   *default_sql = NULL;
	ListCell   *lc;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return;

	foreach(lc, def->constraints)
	{
		Constraint *con = (Constraint *) lfirst(lc);

		switch (con->contype)
		{
			case CONSTR_DEFAULT:
				raw_default = con->raw_expr;
				break;
			case CONSTR_IDENTITY:
				rewrite = true;
				why = "an identity column takes a new sequence value for every existing row";
				break;
			case CONSTR_GENERATED:
#ifdef MG_HAS_VIRTUAL_GENERATED
				/* computed when read: nothing to write (NOT NULL still scans) */
				if (con->generated_kind == ATTRIBUTE_GENERATED_VIRTUAL)
					break;
#endif
				rewrite = true;
				why = "a stored generated column is computed and written for every existing row";
				break;
			case CONSTR_NOTNULL:
				not_null = true;
				break;
			case CONSTR_PRIMARY:
				not_null = true;
				unique = true;
				break;
			case CONSTR_UNIQUE:
				unique = true;
				break;
			case CONSTR_FOREIGN:
				fk = con;
				break;
			case CONSTR_CHECK:
				check = con;
				break;
			default:
				break;
		}
	}

	if (typename_is_serial(def->typeName))
	{
		/* a nextval() default: volatile */
		char	   *name = strVal(llast(def->typeName->names));

		rewrite = true;
		why = "a serial column takes a new sequence value for every existing row";
		type_sql = pstrdup(strstr(name, "big") || strcmp(name, "serial8") == 0 ?
						   "bigint" :
						   strstr(name, "small") || strcmp(name, "serial2") == 0 ?
						   "smallint" : "integer");
	}
	else if ((typid = lookup_type(def->typeName, &typmod)) != InvalidOid)
	{
		type_sql = format_type_with_typemod(typid, typmod);
		if (DomainHasConstraints(typid))
		{
			rewrite = true;
			why = psprintf("its type %s is a domain with constraints, checked by rewriting every row",
						   type_sql);
		}
		if (raw_default != NULL)
		{
			Node	   *cooked = cook_default(raw_default, typid, typmod);

			if (cooked != NULL)
			{
				default_sql = deparse_expression(cooked, NIL, false, false);
				/* as StoreAttrDefault: SQL functions inlined first */
				cooked = (Node *) expression_planner((Expr *) cooked);
			}
			if (cooked != NULL && contain_volatile_functions(cooked))
			{
				rewrite = true;
				if (why == NULL)
					why = psprintf("its default %s is volatile, so every existing row gets its own value",
								   default_sql);
			}
			else if (cooked != NULL &&
					 !(IsA(cooked, Const) && ((Const *) cooked)->constisnull))
				stored_default = true;
		}
		else if (get_typtype(typid) == TYPTYPE_DOMAIN)
		{
			/*
			 * No default of its own: the domain's applies to every existing
			 * row (build_column_default), volatile or not.  The recipe adds
			 * the column with DEFAULT NULL, which overrides it.
			 */
			Node	   *dflt = get_typdefault(typid);

			if (dflt != NULL)
			{
				default_sql = deparse_expression(dflt, NIL, false, false);
				if (contain_volatile_functions(dflt))
				{
					rewrite = true;
					if (why == NULL)
						why = psprintf("its type %s is a domain whose default %s is volatile, so every existing row gets its own value",
									   type_sql, default_sql);
					type_sql = psprintf("%s DEFAULT NULL", type_sql);
				}
				else if (!(IsA(dflt, Const) && ((Const *) dflt)->constisnull))
					stored_default = true;
			}
		}
	}

	if (rewrite)
	{
		Hazard	   *hz;

		eff->rewrite = eff->scan = true;
		hz = add_hazard(eff, RULE_ADD_COLUMN_REWRITE, (Node *) def, cmd_sql,
						def->colname, InvalidOid);
		hz->why = why;
		hz->type_sql = type_sql;
		hz->expr_sql = default_sql;
	}
	else if (not_null && !stored_default)
		eff->scan = true;		/* Phase 3 verifies the new NOT NULL */

	if (check != NULL)
	{
		eff->scan = true;		/* the new CHECK is validated in Phase 3 */
		if (!eff->rewrite)		/* else add_column_rewrite says it all */
		{
			Hazard	   *hz = add_hazard(eff, RULE_ADD_CHECK, (Node *) check,
										cmd_sql, def->colname, InvalidOid);

			hz->inline_column = true;
		}
	}
	if (unique)
	{
		eff->scan = true;
		add_hazard(eff, RULE_ADD_UNIQUE_CONSTRAINT, (Node *) def, cmd_sql,
				   def->colname, InvalidOid);
	}
	if (fk != NULL)
	{
		/*
		 * transformAlterTableStmt skips validating an inline REFERENCES when
		 * the new column has no default: every value is NULL.
		 */
		RelEffect  *pk = effect_for_rangevar(insp, fk->pktable,
											 ShareRowExclusiveLock);

		if (raw_default != NULL)
		{
			Hazard	   *hz;

			eff->scan = true;
			if (pk != NULL)
				pk->scan = true;
			hz = add_hazard(eff, RULE_ADD_FOREIGN_KEY, (Node *) fk, cmd_sql,
							def->colname, pk ? pk->relid : InvalidOid);
			hz->inline_column = true;
		}
	}
}

/*
 * Would converting the column through this expression rewrite the table?
 * Mirrors ATColumnChangeRequiresRewrite() in tablecmds.c (static there).
 */
static bool
column_change_requires_rewrite(Node *expr, AttrNumber varattno)
{
	for (;;)
	{
		if (IsA(expr, Var) && ((Var *) expr)->varattno == varattno)
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (DomainHasConstraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;

			switch (f->funcid)
			{
				case F_TIMESTAMPTZ_TIMESTAMP:
				case F_TIMESTAMP_TIMESTAMPTZ:
					if (TimestampTimestampTzRequiresRewrite())
						return true;
					expr = linitial(f->args);
					break;
				default:
					return true;
			}
		}
		else
			return true;
	}
}

/*
 * Without a table rewrite, ALTER COLUMN TYPE still rebuilds each index on
 * the column that CheckIndexCompatible (indexcmds.c) finds incompatible:
 * one whose operator class or collation would change, whose polymorphic
 * operator class sees a new type, that is invalid, or that has expressions
 * or a predicate.  Returns how many; *first gets one index name.
 */
static int
alter_type_rebuilt_indexes(Oid relid, AttrNumber attnum, Oid oldtypid,
						   Oid newtypid, Oid newcollid, char **first)
{
	Relation	indrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			rebuilt = 0;

	indrel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);
		bool		uses_column = false;
		bool		compatible = idx->indisvalid;
		int			i;

		for (i = 0; i < idx->indnatts; i++)
		{
			if (idx->indkey.values[i] != attnum)
				continue;
			uses_column = true;
			if (i < idx->indnkeyatts && compatible)
			{
				bool		isnull;
				oidvector  *indclass;
				oidvector  *indcoll;
				Oid			am = index_am(idx->indexrelid);
				Oid			oldopc;
				Oid			newopc;

				indclass = (oidvector *) DatumGetPointer(heap_getattr(tup, Anum_pg_index_indclass,
																	  RelationGetDescr(indrel), &isnull));
				indcoll = (oidvector *) DatumGetPointer(heap_getattr(tup, Anum_pg_index_indcollation,
																	 RelationGetDescr(indrel), &isnull));
				oldopc = indclass->values[i];
				newopc = (oldopc == GetDefaultOpClass(oldtypid, am)) ?
					GetDefaultOpClass(newtypid, am) : oldopc;
				if (newopc != oldopc || indcoll->values[i] != newcollid ||
					(IsPolymorphicType(get_opclass_input_type(oldopc)) &&
					 oldtypid != newtypid))
					compatible = false;
			}
		}
		if (!heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
			!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		{
			Bitmapset  *attrs = NULL;
			bool		isnull;
			Datum		d;

			d = heap_getattr(tup, Anum_pg_index_indexprs, RelationGetDescr(indrel), &isnull);
			if (!isnull)
				pull_varattnos(stringToNode(TextDatumGetCString(d)), 1, &attrs);
			d = heap_getattr(tup, Anum_pg_index_indpred, RelationGetDescr(indrel), &isnull);
			if (!isnull)
				pull_varattnos(stringToNode(TextDatumGetCString(d)), 1, &attrs);
			if (bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs))
				uses_column = true;
			compatible = false;
		}
		if (uses_column && !compatible)
		{
			if (rebuilt++ == 0)
				*first = get_rel_name(idx->indexrelid);
		}
	}
	systable_endscan(scan);
	table_close(indrel, AccessShareLock);
	return rebuilt;
}

/*
 * Without a rewrite, ALTER COLUMN TYPE drops and re-adds each CHECK
 * constraint on the column (ATPostAlterTypeCleanup), and a re-added
 * validated CHECK is validated again by a full scan.  Returns the name of
 * the first such constraint, or NULL.
 */
static char *
alter_type_rechecked_constraint(Oid relid, AttrNumber attnum)
{
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	char	   *found = NULL;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (found == NULL && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		bool		isnull;
		Datum		d;
		ArrayType  *arr;
		int16	   *keys;
		int			i;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		d = heap_getattr(tup, Anum_pg_constraint_conkey,
						 RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		arr = DatumGetArrayTypeP(d);
		keys = (int16 *) ARR_DATA_PTR(arr);
		for (i = 0; i < ARR_DIMS(arr)[0]; i++)
			if (keys[i] == attnum)
				found = pstrdup(NameStr(con->conname));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return found;
}

/*
 * check() only: the type an earlier statement of the script created under
 * this name (matched by name, and by schema where both give one), or NULL
 */
static ScriptType *
script_type(ScriptState *script, TypeName *tn)
{
	char	   *schema;
	char	   *name;
	ListCell   *lc;

	if (script == NULL || tn->names == NIL)
		return NULL;
	DeconstructQualifiedName(tn->names, &schema, &name);
	foreach(lc, script->types)
	{
		ScriptType *st = (ScriptType *) lfirst(lc);
		char	   *st_schema;
		char	   *st_name;

		DeconstructQualifiedName(st->names, &st_schema, &st_name);
		if (strcmp(name, st_name) == 0 &&
			(schema == NULL || st_schema == NULL || strcmp(schema, st_schema) == 0))
			return st;
	}
	return NULL;
}

/* check() only: a column an earlier statement of the script added, or NULL */
static ScriptColumn *
script_column(ScriptState *script, Oid relid, const char *colname)
{
	ListCell   *lc;

	foreach(lc, script ? script->columns : NIL)
	{
		ScriptColumn *sc = (ScriptColumn *) lfirst(lc);

		if (sc->relid == relid && strcmp(sc->colname, colname) == 0)
			return sc;
	}
	return NULL;
}

/*
 * The type a column is converted to, when the catalog does not know it: in
 * a script, a type an earlier statement creates.  A domain converts as its
 * base type does, and one with constraints always rewrites
 * (ATColumnChangeRequiresRewrite): returns the base type, *checked set.  A
 * new enum, composite or range type, or an array, has no conversion the
 * catalog can tell: InvalidOid.  A type nobody creates is PostgreSQL's
 * error, in a script; in the hook PostgreSQL raises it itself.
 */
static Oid
script_target_type(Inspection *insp, TypeName *tn, int32 *typmod, bool *known,
				   bool *checked)
{
	ScriptType *st = script_type(insp->script, tn);

	*known = false;
	*checked = false;
	if (st == NULL)
	{
		if (insp->script != NULL && !insp->script->opaque)
			(void) typenameType(NULL, tn, NULL);
		return InvalidOid;
	}
	*known = true;
	if (st->base == NULL || tn->arrayBounds != NIL)
		return InvalidOid;
	*checked = st->checked;
	return lookup_type(st->base, typmod);
}

/* Is the raw expression the bare column of this name? */
static bool
names_column(Node *n, const char *colname)
{
	List	   *fields;

	if (n == NULL || !IsA(n, ColumnRef))
		return false;
	fields = ((ColumnRef *) n)->fields;
	return list_length(fields) == 1 && IsA(linitial(fields), String) &&
		strcmp(strVal(linitial(fields)), colname) == 0;
}

/*
 * Is this USING clause the column cast to the new type itself (USING
 * col::type)?  Returns the column reference it casts, or NULL.  The type
 * is matched as the catalog knows it or, in a script, as the earlier
 * statement that created it named it.
 */
static Node *
using_casts_column(Inspection *insp, Node *using, TypeName *target,
				   Oid newtypid, int32 newtypmod, bool from_script)
{
	TypeCast   *tc;
	int32		casttypmod = -1;

	if (using == NULL || !IsA(using, TypeCast))
		return NULL;
	tc = (TypeCast *) using;
	if (from_script)
	{
		ScriptType *st = script_type(insp->script, target);

		if (st == NULL || script_type(insp->script, tc->typeName) != st ||
			(tc->typeName->arrayBounds != NIL) != (target->arrayBounds != NIL))
			return NULL;
	}
	else if (lookup_type(tc->typeName, &casttypmod) != newtypid ||
			 casttypmod != newtypmod)
		return NULL;
	return tc->arg;
}

/*
 * In a script, PostgreSQL's error for a conversion with no USING and no
 * assignment cast (ATPrepAlterColumnType); the hook leaves it to
 * PostgreSQL.
 */
static void
no_cast_error(Inspection *insp, const char *colname, const char *type)
{
	if (insp->script == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" cannot be cast automatically to type %s",
					colname, type),
			 errhint("You might need to specify \"USING %s::%s\".",
					 quote_identifier(colname), type)));
}

/*
 * ALTER COLUMN ... TYPE: build the same conversion ATPrepAlterColumnType
 * builds (a Var of the old type coerced to the new one, simplified by
 * expression_planner so that length-coercion support functions drop out)
 * and ask whether it requires a rewrite.  A USING clause other than the
 * bare column is taken to rewrite: evaluating it needs the table opened.
 * In a check() script the column and the type may be ones that earlier
 * statements add and create.
 */
static void
inspect_alter_type(Inspection *insp, RelEffect *eff, AlterTableCmd *cmd,
				   const char *cmd_sql)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	bool		rewrite = true;
	HeapTuple	atttup;
	Oid			newtypid;
	int32		newtypmod = -1;
	char	   *new_type;
	char	   *old_type = NULL;
	Oid			oldtypid = InvalidOid;
	int32		oldtypmod = -1;
	AttrNumber	attnum = InvalidAttrNumber;
	bool		stored = true;
	bool		checked_domain = false;
	bool		from_script = false;
	int			rebuilt = 0;
	char	   *rebuilt_name = NULL;
	char	   *rechecked = NULL;

	if (!OidIsValid(eff->relid))
		return;					/* new in this script: nothing to rewrite */
	newtypid = lookup_type(def->typeName, &newtypmod);
	if (OidIsValid(newtypid))
		new_type = format_type_with_typemod(newtypid, newtypmod);
	else
	{
		bool		known;

		newtypid = script_target_type(insp, def->typeName, &newtypmod, &known,
									  &checked_domain);
		if (!known)
			return;
		new_type = TypeNameToString(def->typeName);
		from_script = true;
	}

	/* nothing converts to a new enum, composite or range type implicitly */
	if (!OidIsValid(newtypid) && def->raw_default == NULL)
	{
		no_cast_error(insp, cmd->name, new_type);
		return;
	}

	atttup = SearchSysCacheAttName(eff->relid, cmd->name);
	if (HeapTupleIsValid(atttup))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(atttup);

		oldtypid = att->atttypid;
		oldtypmod = att->atttypmod;
		attnum = att->attnum;
#ifdef MG_HAS_VIRTUAL_GENERATED
		/* nothing stored to convert (ATPrepAlterColumnType) */
		stored = (att->attgenerated != ATTRIBUTE_GENERATED_VIRTUAL);
#endif
		ReleaseSysCache(atttup);
	}
	else
	{
		ScriptColumn *sc = script_column(insp->script, eff->relid, cmd->name);

		if (sc == NULL)
		{
			/* PostgreSQL's error, which the hook leaves to PostgreSQL */
			if (insp->script != NULL && !insp->script->opaque)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist",
								cmd->name, get_rel_name(eff->relid))));
			return;
		}
		oldtypid = lookup_type(sc->type, &oldtypmod);
		attnum = MaxAttrNumber; /* any: the conversion reads this Var only */
	}
	if (OidIsValid(oldtypid))
		old_type = format_type_with_typemod(oldtypid, oldtypmod);

	/*
	 * A new enum, composite or range type is cast to from the string types
	 * alone (by their input function): from any other, USING col::type is
	 * PostgreSQL's error.
	 */
	if (!OidIsValid(newtypid) && OidIsValid(oldtypid) && insp->script != NULL &&
		names_column(using_casts_column(insp, def->raw_default, def->typeName,
										InvalidOid, -1, true), cmd->name) &&
		TypeCategory(getBaseType(oldtypid)) != TYPCATEGORY_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_CANNOT_COERCE),
				 errmsg("cannot cast type %s to %s",
						format_type_be(oldtypid), new_type)));

	if (OidIsValid(oldtypid) && OidIsValid(newtypid))
	{
		Node	   *using = def->raw_default;
		bool		plain_using = true;
		CoercionContext ccontext = COERCION_ASSIGNMENT;

		/*
		 * USING col::type, to the new type itself, converts as the bare
		 * column does (ATPrepAlterColumnType coerces its result to the new
		 * type, here a no-op), by the cast an explicit cast may use.
		 */
		Node	   *cast_of = using_casts_column(insp, using, def->typeName,
													 newtypid, newtypmod,
													 from_script);

		if (cast_of != NULL)
		{
			using = cast_of;
			ccontext = COERCION_EXPLICIT;
		}
		if (using != NULL)
			plain_using = names_column(using, cmd->name);
		if (plain_using)
		{
			Node	   *expr;

			expr = (Node *) makeVar(1, attnum, oldtypid, oldtypmod,
									get_typcollation(oldtypid), 0);
			expr = coerce_to_target_type(NULL, expr, oldtypid,
										 newtypid, newtypmod,
										 ccontext,
										 COERCE_IMPLICIT_CAST, -1);
			if (expr == NULL)
			{
				no_cast_error(insp, cmd->name, new_type);
				return;
			}
			expr = (Node *) expression_planner((Expr *) expr);
			rewrite = checked_domain ||
				column_change_requires_rewrite(expr, attnum);
		}
		if (!stored)
			rewrite = false;
		if (!rewrite && attnum != MaxAttrNumber)
		{
			Oid			newcollid = get_typcollation(newtypid);

			if (def->collClause != NULL)
				newcollid = get_collation_oid(def->collClause->collname, true);
			rebuilt = alter_type_rebuilt_indexes(eff->relid, attnum,
												 oldtypid, newtypid,
												 newcollid, &rebuilt_name);
			rechecked = alter_type_rechecked_constraint(eff->relid, attnum);
		}
	}

	if (!rewrite && (rebuilt > 0 || rechecked != NULL))
	{
		Hazard	   *hz;

		/* each index build, and each CHECK validation, reads the table */
		eff->scan = true;
		hz = add_hazard(eff, RULE_ALTER_COLUMN_TYPE, (Node *) cmd, cmd_sql,
						cmd->name, InvalidOid);
		hz->type_sql = new_type;
		if (rebuilt > 0)
			hz->why = psprintf("the table is not rewritten, but %d index%s on the column (\"%s\") must be rebuilt for the new type",
							   rebuilt, rebuilt > 1 ? "es" : "", rebuilt_name);
		else
			hz->why = psprintf("the table is not rewritten, but CHECK constraint \"%s\" on the column is validated again by a full scan",
							   rechecked);
		return;
	}

	if (rewrite)
	{
		Hazard	   *hz;

		eff->rewrite = eff->scan = true;
		hz = add_hazard(eff, RULE_ALTER_COLUMN_TYPE, (Node *) cmd, cmd_sql,
						cmd->name, InvalidOid);
		hz->type_sql = new_type;
		hz->why = old_type ?
			psprintf("converting %s to %s is not binary compatible, so every row is rewritten and every index rebuilt",
					 old_type, hz->type_sql) :
			pstrdup("the conversion rewrites every row and rebuilds every index");
	}
}

/*
 * check() only: VALIDATE of a constraint that an earlier statement of the
 * script added NOT VALID (and nothing validated since) reads as the one in
 * the catalog would.
 */
static void
inspect_validate_in_script(Inspection *insp, RelEffect *eff,
						   const char *conname)
{
	ListCell   *lc;
	bool		may_exist;

	if (insp->script == NULL)
		return;

	/*
	 * Not in the catalog, and not a name an earlier statement may have made
	 * (one it left unnamed, a column's inline constraint): PostgreSQL's error
	 */
	may_exist = insp->script->opaque;
	foreach(lc, insp->script->constraints)
	{
		ScriptConstraint *sc = (ScriptConstraint *) lfirst(lc);

		if (sc->relid == eff->relid &&
			(sc->conname == NULL || strcmp(sc->conname, conname) == 0))
			may_exist = true;
	}
	foreach(lc, insp->script->columns)
	{
		if (((ScriptColumn *) lfirst(lc))->relid == eff->relid)
			may_exist = true;
	}
	if (!may_exist)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("constraint \"%s\" of relation \"%s\" does not exist",
						conname, get_rel_name(eff->relid))));

	foreach(lc, insp->script->constraints)
	{
		ScriptConstraint *sc = (ScriptConstraint *) lfirst(lc);

		if (sc->relid != eff->relid || sc->in_catalog || sc->validated ||
			sc->conname == NULL || strcmp(sc->conname, conname) != 0)
			continue;
		eff->scan = true;
		if (sc->contype == CONSTR_FOREIGN)
		{
			RelEffect  *pk = effect_for_rangevar(insp, sc->pktable,
												 RowShareLock);

			if (pk != NULL)
				pk->scan = true;
		}
	}
}

/*
 * VALIDATE CONSTRAINT: a scan (and, for a foreign key, a join with the
 * referenced table under ROW SHARE) unless the constraint is already valid,
 * in which case ATExecValidateConstraint does nothing.
 */
static void
inspect_validate(Inspection *insp, RelEffect *eff, AlterTableCmd *cmd,
				 const char *cmd_sql)
{
	const char *conname = cmd->name;
	Oid			conoid;
	HeapTuple	tup;
	Form_pg_constraint con;

	if (!OidIsValid(eff->relid))
		return;
	conoid = get_relation_constraint_oid(eff->relid, conname, true);
	if (!OidIsValid(conoid))
	{
		inspect_validate_in_script(insp, eff, conname);
		return;
	}
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		return;
	con = (Form_pg_constraint) GETSTRUCT(tup);
	if (!con->convalidated &&
		(con->contype == CONSTRAINT_CHECK || con->contype == CONSTRAINT_FOREIGN
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
		 || con->contype == CONSTRAINT_NOTNULL
#endif
		 ))
	{
		eff->scan = true;
		if (con->contype == CONSTRAINT_FOREIGN)
			effect_for(insp, con->confrelid, NULL, RowShareLock)->scan = true;

		/*
		 * VALIDATE is the safe path only alone: with another subcommand that
		 * locks more (DROP COLUMN, say), its scan runs under that lock
		 */
		if (eff->lockmode > ShareUpdateExclusiveLock)
		{
			Hazard	   *hz;

			hz = add_hazard(eff,
							con->contype == CONSTRAINT_FOREIGN ? RULE_ADD_FOREIGN_KEY :
							con->contype == CONSTRAINT_CHECK ? RULE_ADD_CHECK :
							RULE_SET_NOT_NULL,
							(Node *) cmd, cmd_sql, conname,
							con->contype == CONSTRAINT_FOREIGN ? con->confrelid : InvalidOid);
			hz->why = psprintf("another subcommand of the same ALTER TABLE takes %s, and VALIDATE reads every row under it",
							   lock_mode_words(eff->lockmode));
		}
	}
	ReleaseSysCache(tup);
}

/*
 * PRIMARY KEY USING INDEX: the index is there already, but every key column
 * not yet NOT NULL gets SET NOT NULL (index_check_primary_key), with its
 * verification scan under ACCESS EXCLUSIVE unless a validated CHECK proves
 * it, exactly as a SET NOT NULL of its own.
 */
static void
inspect_primary_key_using_index(Inspection *insp, RelEffect *eff,
								Constraint *con, const char *cmd_sql)
{
	Oid			indexoid = get_relname_relid(con->indexname,
											 get_rel_namespace(eff->relid));
	HeapTuple	idxtup;
	Form_pg_index index;
	int			i;

	if (!OidIsValid(indexoid))
		return;					/* PostgreSQL will say so */
	idxtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(idxtup))
		return;
	index = (Form_pg_index) GETSTRUCT(idxtup);
	for (i = 0; i < index->indnkeyatts; i++)
	{
		AttrNumber	attnum = index->indkey.values[i];
		char	   *colname;

		if (attnum <= 0 || index->indrelid != eff->relid)
			continue;			/* expressions are refused by PostgreSQL */
		colname = get_attname(eff->relid, attnum, true);
		if (colname != NULL && !not_null_proved(insp, eff->relid, colname))
		{
			Hazard	   *hz;

			eff->scan = true;
			hz = add_hazard(eff, RULE_SET_NOT_NULL, (Node *) con, cmd_sql,
							colname, InvalidOid);
			hz->why = psprintf("a primary key makes column \"%s\" NOT NULL, and no validated CHECK proves it",
							   colname);
		}
	}
	ReleaseSysCache(idxtup);
}

/*
 * Is this column's value always stored in the heap's row?  Fixed length, or
 * a type never stored out of line (attstorage plain).  False for a column
 * the catalog does not know (one the script adds, say): TOAST counts then.
 */
static bool
column_stored_inline(Oid relid, const char *colname)
{
	HeapTuple	atttup = SearchSysCacheAttName(relid, colname);
	bool		inline_only;

	if (!HeapTupleIsValid(atttup))
		return false;
	inline_only = ((Form_pg_attribute) GETSTRUCT(atttup))->attlen > 0 ||
		((Form_pg_attribute) GETSTRUCT(atttup))->attstorage == TYPSTORAGE_PLAIN;
	ReleaseSysCache(atttup);
	return inline_only;
}

/*
 * Walker of a CHECK's raw expression: true at the first column whose value
 * it may read out of line.  An IS [NOT] NULL of a bare column asks only
 * whether the value is there (ExecEvalNullTest never detoasts); any other
 * use of a column that can be stored out of line may read its TOAST.
 */
static bool
check_reads_toast_walker(Node *node, void *context)
{
	Oid			relid = *(Oid *) context;

	if (node == NULL)
		return false;
	if (IsA(node, NullTest) && IsA(((NullTest *) node)->arg, ColumnRef))
		return false;
	if (IsA(node, ColumnRef))
	{
		List	   *fields = ((ColumnRef *) node)->fields;
		Node	   *last = llast(fields);

		return !IsA(last, String) || !column_stored_inline(relid, strVal(last));
	}
	return raw_expression_tree_walker(node, check_reads_toast_walker, context);
}

/*
 * Does validating this new CHECK read only values stored in the heap's
 * rows?  True for a CHECK that tests only whether columns are null (the
 * step before SET NOT NULL in the phased recipe) or reads only columns
 * stored inline.
 */
static bool
check_reads_heap_only(Oid relid, Constraint *con)
{
	return OidIsValid(relid) && con->raw_expr != NULL &&
		!check_reads_toast_walker(con->raw_expr, &relid);
}

/* ADD CONSTRAINT: CHECK, FOREIGN KEY, PRIMARY KEY, UNIQUE, EXCLUDE */
static void
inspect_add_constraint(Inspection *insp, RelEffect *eff, Constraint *con,
					   const char *cmd_sql)
{
	switch (con->contype)
	{
		case CONSTR_CHECK:
			if (!con->skip_validation)
			{
				eff->scan = true;
				add_hazard(eff, RULE_ADD_CHECK, (Node *) con, cmd_sql,
						   con->conname, InvalidOid)->heap_only =
					check_reads_heap_only(eff->relid, con);
			}
			break;
		case CONSTR_FOREIGN:
			{
				RelEffect  *pk = effect_for_rangevar(insp, con->pktable,
													 ShareRowExclusiveLock);

				if (!con->skip_validation)
				{
					/* RI_Initial_Check joins the two tables */
					eff->scan = true;
					if (pk != NULL)
						pk->scan = true;
					add_hazard(eff, RULE_ADD_FOREIGN_KEY, (Node *) con,
							   cmd_sql, con->conname,
							   pk ? pk->relid : InvalidOid);
				}
			}
			break;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
		case CONSTR_EXCLUSION:
			if (con->indexname == NULL)
			{
				eff->scan = true;
				add_hazard(eff, RULE_ADD_UNIQUE_CONSTRAINT, (Node *) con,
						   cmd_sql, con->conname, InvalidOid);
			}
			else if (con->contype == CONSTR_PRIMARY && OidIsValid(eff->relid))
				inspect_primary_key_using_index(insp, eff, con, cmd_sql);
			break;
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
		case CONSTR_NOTNULL:
			{
				/* ADD CONSTRAINT name NOT NULL col: a SET NOT NULL, by name */
				char	   *colname;

				if (list_length(con->keys) != 1)
					break;		/* the grammar gives one column */
				colname = strVal(linitial(con->keys));
				if (!con->skip_validation &&
					(!OidIsValid(eff->relid) ||
					 !not_null_proved(insp, eff->relid, colname)))
				{
					eff->scan = true;
					add_hazard(eff, RULE_SET_NOT_NULL, (Node *) con, cmd_sql,
							   colname, InvalidOid);
				}
			}
			break;
#endif
		default:
			break;
	}
}

#ifdef MG_HAS_SET_EXPRESSION
/*
 * ALTER COLUMN ... SET EXPRESSION (17): a stored generated column is
 * computed again for every row, a rewrite that rebuilds every index; a
 * virtual one (18) stores nothing, and is read through only to check its
 * NOT NULL (ATExecSetExpression).
 */
static void
inspect_set_expression(RelEffect *eff, AlterTableCmd *cmd, const char *cmd_sql)
{
	HeapTuple	atttup;
	Form_pg_attribute att;

	if (!OidIsValid(eff->relid))
		return;
	atttup = SearchSysCacheAttName(eff->relid, cmd->name);
	if (!HeapTupleIsValid(atttup))
		return;					/* PostgreSQL will say so */
	att = (Form_pg_attribute) GETSTRUCT(atttup);
	if (att->attgenerated == ATTRIBUTE_GENERATED_STORED)
	{
		eff->rewrite = eff->scan = true;
		add_hazard(eff, RULE_REWRITE_TABLE, (Node *) cmd, cmd_sql,
				   "SET EXPRESSION", InvalidOid);
	}
#ifdef MG_HAS_VIRTUAL_GENERATED
	else if (att->attgenerated == ATTRIBUTE_GENERATED_VIRTUAL && att->attnotnull)
		eff->scan = true;
#endif
	ReleaseSysCache(atttup);
}
#endif

#ifdef MG_HAS_NOT_ENFORCED
/*
 * check() only: ENFORCED of a foreign key that an earlier statement of the
 * script added NOT ENFORCED reads as the one in the catalog would.
 */
static void
enforce_in_script(Inspection *insp, RelEffect *eff, AlterTableCmd *cmd,
				  const char *cmd_sql)
{
	ATAlterConstraint *alter = (ATAlterConstraint *) cmd->def;
	ListCell   *lc;

	if (!alter->is_enforced)
		return;
	foreach(lc, insp->script ? insp->script->constraints : NIL)
	{
		ScriptConstraint *sc = (ScriptConstraint *) lfirst(lc);
		RelEffect  *pk;

		if (sc->relid != eff->relid || sc->contype != CONSTR_FOREIGN ||
			!sc->not_enforced || sc->conname == NULL ||
			strcmp(sc->conname, alter->conname) != 0)
			continue;
		eff->scan = true;
		pk = effect_for_rangevar(insp, sc->pktable, ShareRowExclusiveLock);
		if (pk != NULL)
			pk->scan = true;
		add_hazard(eff, RULE_ADD_FOREIGN_KEY, (Node *) cmd, cmd_sql,
				   alter->conname, pk ? pk->relid : InvalidOid)->why =
			"ENFORCED validates every row while the table is held ACCESS EXCLUSIVE";
	}
}

/*
 * ALTER CONSTRAINT fk [NOT] ENFORCED (18).  ENFORCED creates the triggers
 * (SHARE ROW EXCLUSIVE on the referenced table) and validates every row
 * while the table is held ACCESS EXCLUSIVE: the scan of an ADD FOREIGN KEY,
 * under a stronger lock.  NOT ENFORCED drops the triggers, which takes
 * ACCESS EXCLUSIVE on the referenced table too.  A CHECK's enforcement
 * cannot be altered (PostgreSQL says so).
 */
static void
inspect_alter_enforceability(Inspection *insp, RelEffect *eff,
							 AlterTableCmd *cmd, const char *cmd_sql)
{
	ATAlterConstraint *alter = (ATAlterConstraint *) cmd->def;
	const char *not_enforced = " NOT ENFORCED";
	Oid			conoid;
	HeapTuple	tup;
	Form_pg_constraint con;

	if (!OidIsValid(eff->relid))
		return;
	conoid = get_relation_constraint_oid(eff->relid, alter->conname, true);
	if (!OidIsValid(conoid))
	{
		enforce_in_script(insp, eff, cmd, cmd_sql);
		return;
	}
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		return;
	con = (Form_pg_constraint) GETSTRUCT(tup);
	if (con->contype == CONSTRAINT_FOREIGN && alter->is_enforced &&
		!con->conenforced)
	{
		RelEffect  *pk = effect_for(insp, con->confrelid, NULL,
									ShareRowExclusiveLock);
		Hazard	   *hz;
		char	   *def;

		eff->scan = true;
		pk->scan = true;
		hz = add_hazard(eff, RULE_ADD_FOREIGN_KEY, (Node *) cmd, cmd_sql,
						alter->conname, con->confrelid);
		hz->why = "ENFORCED validates every row while the table is held ACCESS EXCLUSIVE";
		/* the definition, for the recipe: re-added NOT VALID instead */
		def = TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
													  ObjectIdGetDatum(conoid)));
		if (strlen(def) > strlen(not_enforced) &&
			strcmp(def + strlen(def) - strlen(not_enforced), not_enforced) == 0)
			def[strlen(def) - strlen(not_enforced)] = '\0';
		hz->expr_sql = def;
	}
	else if (con->contype == CONSTRAINT_FOREIGN && !alter->is_enforced &&
			 con->conenforced)
		(void) effect_for(insp, con->confrelid, NULL, AccessExclusiveLock);
	ReleaseSysCache(tup);
}
#endif

/* Does this SET TABLESPACE / LOGGED / UNLOGGED / ACCESS METHOD change anything? */
static bool
storage_change_rewrites(Oid relid, AlterTableCmd *cmd)
{
	HeapTuple	tup;
	Form_pg_class cls;
	bool		rewrite = true;

	if (!OidIsValid(relid))
		return false;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return false;
	cls = (Form_pg_class) GETSTRUCT(tup);
	if (!RELKIND_HAS_STORAGE(cls->relkind))
		rewrite = false;		/* partitioned: only the default changes */
	else if (cmd->subtype == AT_SetLogged)
		rewrite = cls->relpersistence != RELPERSISTENCE_PERMANENT;
	else if (cmd->subtype == AT_SetUnLogged)
		rewrite = cls->relpersistence != RELPERSISTENCE_UNLOGGED;
	else if (cmd->subtype == AT_SetAccessMethod)
	{
		/* SET ACCESS METHOD DEFAULT (17) has no name */
		const char *am = cmd->name ? cmd->name : default_table_access_method;

		rewrite = get_table_am_oid(am, true) != cls->relam;
	}
	else if (cmd->subtype == AT_SetTableSpace)
	{
		Oid			spc = get_tablespace_oid(cmd->name, true);
		Oid			cur = OidIsValid(cls->reltablespace) ?
		cls->reltablespace : MyDatabaseTableSpace;

		rewrite = OidIsValid(spc) && spc != cur;
	}
	ReleaseSysCache(tup);
	return rewrite;
}

/*
 * Does one of these subcommands recurse to inheritance children?  The ones
 * ATPrepCmd passes to ATSimpleRecursion or recurses for in execution
 * (commands/tablecmds.c); SET TABLESPACE, SET LOGGED, SET ACCESS METHOD,
 * ADD FOREIGN KEY, ADD UNIQUE and the trigger and owner subcommands do not.
 */
static bool
alter_recurses(List *cmds)
{
	ListCell   *lc;

	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
			case AT_ColumnDefault:
			case AT_DropNotNull:
			case AT_SetNotNull:
			case AT_DropExpression:
			case AT_SetStatistics:
			case AT_SetStorage:
			case AT_DropColumn:
			case AT_DropConstraint:
			case AT_AlterColumnType:
			case AT_ValidateConstraint:
				return true;
			case AT_AddConstraint:
				if (IsA(cmd->def, Constraint) &&
					((Constraint *) cmd->def)->contype == CONSTR_CHECK &&
					!((Constraint *) cmd->def)->is_no_inherit)
					return true;
				break;
			default:
				break;
		}
	}
	return false;
}

/*
 * What a recursing ALTER TABLE does to one inheritance child: the work that
 * reads or rewrites it (ADD COLUMN, ALTER TYPE, SET NOT NULL, an inherited
 * CHECK and its validation), judged on the child's own size.  A column the
 * child already has is merged, not added: nothing is written.
 */
static void
inspect_alter_child(Inspection *insp, RelEffect *ceff, List *cmds,
					List *cmd_sqls)
{
	ListCell   *lc;
	int			i = 0;

	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		const char *cmd_sql = cmd_sqls ? (char *) list_nth(cmd_sqls, i) : NULL;

		i++;
		switch (cmd->subtype)
		{
			case AT_AddColumn:
				if (get_attnum(ceff->relid,
							   castNode(ColumnDef, cmd->def)->colname) == InvalidAttrNumber)
					inspect_add_column(insp, ceff, castNode(ColumnDef, cmd->def),
									   cmd_sql, RELKIND_RELATION);
				break;
			case AT_AlterColumnType:
				inspect_alter_type(insp, ceff, cmd, cmd_sql);
				break;
			case AT_SetNotNull:
				if (!not_null_proved(insp, ceff->relid, cmd->name))
				{
					ceff->scan = true;
					add_hazard(ceff, RULE_SET_NOT_NULL, (Node *) cmd, cmd_sql,
							   cmd->name, InvalidOid);
				}
				break;
			case AT_AddConstraint:
				if (IsA(cmd->def, Constraint) &&
					((Constraint *) cmd->def)->contype == CONSTR_CHECK &&
					!((Constraint *) cmd->def)->is_no_inherit)
					inspect_add_constraint(insp, ceff, (Constraint *) cmd->def,
										   cmd_sql);
				break;
			case AT_ValidateConstraint:
				inspect_validate(insp, ceff, cmd, cmd_sql);
				break;
			default:
				break;
		}
	}
}

/*
 * The OIDs in column resultatt of the rows of catalog catid whose column
 * keyatt is key, through index indexid (InvalidOid: a heap scan).  In OID
 * order, which is creation order, not the heap's: messages about them come
 * in the same order on every major.
 */
List *
catalog_oids(Oid catid, Oid indexid, AttrNumber keyatt, Oid key,
			 AttrNumber resultatt)
{
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	rel = table_open(catid, AccessShareLock);
	ScanKeyInit(&skey, keyatt, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(key));
	scan = systable_beginscan(rel, indexid, OidIsValid(indexid), NULL, 1, &skey);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, resultatt, RelationGetDescr(rel),
									 &isnull);

		if (!isnull)
			result = lappend_oid(result, DatumGetObjectId(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(result, list_oid_cmp);
	return result;
}

/*
 * The typed tables that a CASCADE on the composite type typname reaches,
 * or NIL where PostgreSQL will refuse the statement or it reaches none.
 */
static List *
cascade_typed_tables(RangeVar *typname, bool cascade)
{
	Oid			typrelid = RangeVarGetRelid(typname, NoLock, true);
	List	   *typed;
	ListCell   *lc;

	if (!OidIsValid(typrelid) ||
		get_rel_relkind(typrelid) != RELKIND_COMPOSITE_TYPE)
		return NIL;
	/* as find_typed_table_dependencies: pg_class has no index on reloftype */
	typed = catalog_oids(RelationRelationId, InvalidOid, Anum_pg_class_reloftype,
						 get_rel_type_id(typrelid), Anum_pg_class_oid);
	if (!cascade)
		return NIL;
	foreach(lc, typed)
	{
		if (!mg_class_ownercheck(lfirst_oid(lc), GetUserId()))
			return NIL;
	}
	return typed;
}

/*
 * ALTER TYPE on a composite type.  With CASCADE, ADD, DROP and ALTER
 * ATTRIBUTE reach every typed table of the type, each under ACCESS
 * EXCLUSIVE, and ALTER ATTRIBUTE ... TYPE rewrites each one unless the new
 * type needs no rewrite (ATTypedTableRecursion).  A typed table is judged
 * on its own size.  Where PostgreSQL will refuse the statement (a typed
 * table and no CASCADE, or a typed table the caller does not own) there
 * is nothing to judge.
 */
static void
inspect_alter_composite(Inspection *insp, AlterTableStmt *stmt)
{
	List	   *typed;
	List	   *cmd_sqls;
	ListCell   *lc;
	bool		cascade = true;

	foreach(lc, stmt->cmds)
	{
		if (((AlterTableCmd *) lfirst(lc))->behavior != DROP_CASCADE)
			cascade = false;
	}
	typed = cascade_typed_tables(stmt->relation, cascade);
	if (typed == NIL)
		return;

	cmd_sqls = sql_split_alter_cmds(insp->sql);
	if (list_length(cmd_sqls) != list_length(stmt->cmds))
		cmd_sqls = NIL;
	foreach(lc, typed)
	{
		RelEffect  *teff = effect_for(insp, lfirst_oid(lc), NULL,
									  AccessExclusiveLock);
		ListCell   *cc;
		int			i = 0;

		inspect_alter_child(insp, teff, stmt->cmds, cmd_sqls);
		foreach(cc, stmt->cmds)
		{
			AlterTableCmd *cmd = (AlterTableCmd *) lfirst(cc);

			if (cmd->subtype == AT_DropColumn)
				add_hazard(teff, RULE_DROP_COLUMN, (Node *) cmd,
						   cmd_sqls ? (char *) list_nth(cmd_sqls, i) : NULL,
						   cmd->name, InvalidOid);
			i++;
		}
	}
}

static void
inspect_alter_table(Inspection *insp, AlterTableStmt *stmt)
{
	RelEffect  *eff;
	List	   *cmd_sqls;
	char		relkind;
	ListCell   *lc;
	int			i = 0;

	if (stmt->objtype == OBJECT_TYPE)
	{
		inspect_alter_composite(insp, stmt);
		return;
	}
	if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_MATVIEW &&
		stmt->objtype != OBJECT_INDEX)
		return;

	eff = effect_for_rangevar(insp, stmt->relation,
							  AlterTableGetLockLevel(stmt->cmds));
	if (eff == NULL)
		return;
	relkind = OidIsValid(eff->relid) ? get_rel_relkind(eff->relid) :
		RELKIND_RELATION;
	cmd_sqls = sql_split_alter_cmds(insp->sql);
	if (list_length(cmd_sqls) != list_length(stmt->cmds))
		cmd_sqls = NIL;			/* could not cut the text: hints use names */

	/*
	 * Without ONLY, ALTER TABLE on a parent by inheritance (a partitioned
	 * table sums its partitions instead) recurses to every child for most
	 * subcommands: each child is locked, and rewritten or scanned, as the
	 * parent is.
	 */
	if (stmt->relation->inh && OidIsValid(eff->relid) &&
		relkind == RELKIND_RELATION && has_subclass(eff->relid))
	{
		List	   *children = find_all_inheritors(eff->relid, NoLock, NULL);
		ListCell   *cc;

		foreach(cc, children)
		{
			Oid			child = lfirst_oid(cc);

			if (child != eff->relid && alter_recurses(stmt->cmds))
				inspect_alter_child(insp, effect_for(insp, child, NULL,
													 eff->lockmode),
									stmt->cmds, cmd_sqls);
		}
	}

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		const char *cmd_sql = cmd_sqls ? (char *) list_nth(cmd_sqls, i) : NULL;

		i++;
		switch (cmd->subtype)
		{
			case AT_AddColumn:
#ifdef MG_HAS_RECURSE_SUBTYPES
			case AT_AddColumnRecurse:
#endif
				/* IF NOT EXISTS on a column that exists: a NOTICE, nothing done */
				if (cmd->missing_ok && OidIsValid(eff->relid) &&
					get_attnum(eff->relid,
							   castNode(ColumnDef, cmd->def)->colname) != InvalidAttrNumber)
					break;
				inspect_add_column(insp, eff, castNode(ColumnDef, cmd->def),
								   cmd_sql, relkind);
				break;
			case AT_AlterColumnType:
				inspect_alter_type(insp, eff, cmd, cmd_sql);
				break;
			case AT_SetNotNull:
				if (!OidIsValid(eff->relid) ||
					!not_null_proved(insp, eff->relid, cmd->name))
				{
					eff->scan = true;
					add_hazard(eff, RULE_SET_NOT_NULL, (Node *) cmd, cmd_sql,
							   cmd->name, InvalidOid);
				}
				break;
			case AT_AddConstraint:
#ifdef MG_HAS_RECURSE_SUBTYPES
			case AT_AddConstraintRecurse:
#endif
				if (IsA(cmd->def, Constraint))
					inspect_add_constraint(insp, eff,
										   (Constraint *) cmd->def, cmd_sql);
				break;
			case AT_ValidateConstraint:
#ifdef MG_HAS_RECURSE_SUBTYPES
			case AT_ValidateConstraintRecurse:
#endif
				/* The safe path: a scan, under SHARE UPDATE EXCLUSIVE */
				inspect_validate(insp, eff, cmd, cmd_sql);
				break;
			case AT_DropColumn:
#ifdef MG_HAS_RECURSE_SUBTYPES
			case AT_DropColumnRecurse:
#endif
				add_hazard(eff, RULE_DROP_COLUMN, (Node *) cmd, cmd_sql,
						   cmd->name, InvalidOid);
				if (OidIsValid(eff->relid))
				{
					AttrNumber	attnum = get_attnum(eff->relid, cmd->name);

					if (attnum != InvalidAttrNumber)
						lock_fk_partners(insp, eff->relid, 'o', attnum, NULL);
				}
				break;
			case AT_DropConstraint:
#ifdef MG_HAS_RECURSE_SUBTYPES
			case AT_DropConstraintRecurse:
#endif
				if (OidIsValid(eff->relid))
					lock_fk_partners(insp, eff->relid, 'o', InvalidAttrNumber,
									 cmd->name);
				break;
			case AT_SetTableSpace:
			case AT_SetLogged:
			case AT_SetUnLogged:
			case AT_SetAccessMethod:
				if (storage_change_rewrites(eff->relid, cmd))
				{
					/* SET TABLESPACE copies blocks; the others rewrite rows */
					eff->rewrite = true;
					if (cmd->subtype != AT_SetTableSpace)
						eff->scan = true;
					add_hazard(eff, RULE_REWRITE_TABLE, (Node *) cmd, cmd_sql,
							   cmd->subtype == AT_SetTableSpace ? "SET TABLESPACE" :
							   cmd->subtype == AT_SetLogged ? "SET LOGGED" :
							   cmd->subtype == AT_SetUnLogged ? "SET UNLOGGED" :
							   "SET ACCESS METHOD", InvalidOid);
				}
				break;
			case AT_AttachPartition:
			case AT_DetachPartition:
				if (stmt->objtype == OBJECT_TABLE)
					inspect_partition_cmd(insp, eff, cmd, cmd_sql);
				break;
#ifdef MG_HAS_SET_EXPRESSION
			case AT_SetExpression:
				inspect_set_expression(eff, cmd, cmd_sql);
				break;
#endif
#ifdef MG_HAS_NOT_ENFORCED
			case AT_AlterConstraint:
				if (IsA(cmd->def, ATAlterConstraint) &&
					((ATAlterConstraint *) cmd->def)->alterEnforceability)
					inspect_alter_enforceability(insp, eff, cmd, cmd_sql);
				break;
#endif
			default:
				/* the lock from AlterTableGetLockLevel is all there is */
				break;
		}
	}
}

/*---- Other statements ----*/

/*
 * Does building this index read only values stored in the heap's rows?
 * Columns stored inline, no expression and no predicate.
 */
static bool
index_reads_heap_only(Oid relid, IndexStmt *stmt)
{
	ListCell   *lc;

	if (stmt->whereClause != NULL)
		return false;
	foreach(lc, list_concat_copy(stmt->indexParams, stmt->indexIncludingParams))
	{
		IndexElem  *elem = (IndexElem *) lfirst(lc);

		if (elem->expr != NULL || elem->name == NULL ||
			!column_stored_inline(relid, elem->name))
			return false;
	}
	return true;
}

static void
inspect_index(Inspection *insp, IndexStmt *stmt)
{
	RelEffect  *eff = effect_for_rangevar(insp, stmt->relation,
										  stmt->concurrent ?
										  ShareUpdateExclusiveLock : ShareLock);

	if (eff == NULL)
		return;

	/* CREATE INDEX ON ONLY parent builds nothing: it only makes an invalid index */
	if (!stmt->relation->inh &&
		OidIsValid(eff->relid) &&
		get_rel_relkind(eff->relid) == RELKIND_PARTITIONED_TABLE)
		return;

	/*
	 * IF NOT EXISTS with the name taken (by any relation of the table's
	 * schema, as DefineIndex checks): a NOTICE, nothing built, after the
	 * lock all the same
	 */
	if (stmt->if_not_exists && stmt->idxname != NULL && OidIsValid(eff->relid) &&
		OidIsValid(get_relname_relid(stmt->idxname,
									 get_rel_namespace(eff->relid))))
		return;

	eff->scan = true;
	if (!stmt->concurrent)
		add_hazard(eff, RULE_CREATE_INDEX, (Node *) stmt, insp->sql,
				   stmt->idxname, InvalidOid)->heap_only =
			OidIsValid(eff->relid) && index_reads_heap_only(eff->relid, stmt);

	/*
	 * On a partitioned table, DefineIndex locks every partition in the same
	 * mode and builds the index on each leaf (the parent's finding carries
	 * their summed size).
	 */
	if (OidIsValid(eff->relid) &&
		get_rel_relkind(eff->relid) == RELKIND_PARTITIONED_TABLE)
	{
		ListCell   *lc;

		foreach(lc, find_all_inheritors(eff->relid, NoLock, NULL))
		{
			Oid			child = lfirst_oid(lc);

			if (child != eff->relid)
				effect_for(insp, child, NULL, eff->lockmode)->scan =
					(get_rel_relkind(child) == RELKIND_RELATION);
		}
	}
}

/*
 * DROP TABLE of a materialized view, DROP INDEX of a table: PostgreSQL
 * fails before it locks anything (RangeVarCallbackForDropRelation), so the
 * hook leaves it alone; in a script it is that error, as when it runs.
 */
static bool
drop_names_other_kind(Inspection *insp, ObjectType removeType, RangeVar *rv)
{
	Oid			relid;
	char		relkind;
	char		want;
	const char *nota;
	const char *hint;

	if (created_in_script(insp->script, rv))
		return false;
	relid = script_relid(insp->script, rv);
	if (!OidIsValid(relid))
		return false;
	relkind = get_rel_relkind(relid);
	if (relkind == RELKIND_PARTITIONED_TABLE)
		relkind = RELKIND_RELATION;
	else if (relkind == RELKIND_PARTITIONED_INDEX)
		relkind = RELKIND_INDEX;
	want = removeType == OBJECT_INDEX ? RELKIND_INDEX :
		removeType == OBJECT_MATVIEW ? RELKIND_MATVIEW : RELKIND_RELATION;
	if (relkind == want || relkind == '\0')
		return false;
	if (insp->script == NULL)
		return true;

	nota = want == RELKIND_INDEX ? "\"%s\" is not an index" :
		want == RELKIND_MATVIEW ? "\"%s\" is not a materialized view" :
		"\"%s\" is not a table";
	switch (relkind)
	{
		case RELKIND_RELATION:
			hint = "Use DROP TABLE to remove a table.";
			break;
		case RELKIND_SEQUENCE:
			hint = "Use DROP SEQUENCE to remove a sequence.";
			break;
		case RELKIND_VIEW:
			hint = "Use DROP VIEW to remove a view.";
			break;
		case RELKIND_MATVIEW:
			hint = "Use DROP MATERIALIZED VIEW to remove a materialized view.";
			break;
		case RELKIND_INDEX:
			hint = "Use DROP INDEX to remove an index.";
			break;
		case RELKIND_COMPOSITE_TYPE:
			hint = "Use DROP TYPE to remove a type.";
			break;
		case RELKIND_FOREIGN_TABLE:
			hint = "Use DROP FOREIGN TABLE to remove a foreign table.";
			break;
		default:
			hint = NULL;
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg(nota, rv->relname),
			 hint ? errhint("%s", hint) : 0));
	return true;				/* not reached */
}

static void
inspect_drop(Inspection *insp, DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType == OBJECT_TRIGGER || stmt->removeType == OBJECT_RULE ||
		stmt->removeType == OBJECT_POLICY)
	{
		inspect_drop_table_object(insp, stmt);
		return;
	}

	/* Only relations have name lists as objects; functions, types... do not */
	if (stmt->removeType != OBJECT_INDEX && stmt->removeType != OBJECT_TABLE &&
		stmt->removeType != OBJECT_MATVIEW)
	{
		if (drop_cascade_is_walked(stmt))
			inspect_drop_cascade(insp, stmt);
		return;
	}

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

		if (drop_names_other_kind(insp, stmt->removeType, rv))
			continue;
		if (stmt->removeType == OBJECT_INDEX)
		{
			Oid			indexid = RangeVarGetRelid(rv, NoLock, true);
			Oid			heapid;
			RelEffect  *eff;

			if (!OidIsValid(indexid))
				continue;
			heapid = IndexGetRelation(indexid, true);
			if (!OidIsValid(heapid))
				continue;
			eff = effect_for(insp, heapid, NULL,
							 stmt->concurrent ? ShareUpdateExclusiveLock :
							 AccessExclusiveLock);
			/* a constraint's index: PostgreSQL refuses the drop itself */
			if (!stmt->concurrent && !OidIsValid(get_index_constraint(indexid)))
				add_hazard(eff, RULE_DROP_INDEX, (Node *) stmt, insp->sql,
						   rv->relname, indexid);
		}
		else if (stmt->removeType == OBJECT_TABLE ||
				 stmt->removeType == OBJECT_MATVIEW)
		{
			RelEffect  *eff = effect_for_rangevar(insp, rv,
												  AccessExclusiveLock);

			if (eff != NULL)
				add_hazard(eff, RULE_DROP_TABLE, (Node *) stmt, insp->sql,
						   NULL, InvalidOid);
			if (eff != NULL && OidIsValid(eff->relid))
			{
				/* a partition's parent: RangeVarCallbackForDropRelation */
				if (get_rel_relispartition(eff->relid))
				{
					Oid			parent = get_partition_parent(eff->relid, true);

					if (OidIsValid(parent))
						(void) effect_for(insp, parent, NULL,
										  AccessExclusiveLock);
				}
				lock_fk_partners(insp, eff->relid, 'o', InvalidAttrNumber, NULL);
				if (stmt->behavior == DROP_CASCADE)
					lock_fk_partners(insp, eff->relid, 'i', InvalidAttrNumber, NULL);
			}
		}
	}
	if (drop_cascade_is_walked(stmt))
		inspect_drop_cascade(insp, stmt);
}

/*
 * Renames.  A relation's rename takes ACCESS EXCLUSIVE, but SHARE UPDATE
 * EXCLUSIVE for an index renamed with ALTER INDEX; which one PostgreSQL
 * takes depends on what the name turns out to be, not on the statement's
 * keyword: ALTER INDEX naming a table renames the table under ACCESS
 * EXCLUSIVE (commands/tablecmds.c, RenameRelation).
 */
static void
inspect_rename_relation(Inspection *insp, RenameStmt *stmt)
{
	bool		created = created_in_script(insp->script, stmt->relation);
	Oid			relid = created ? InvalidOid :
		script_relid(insp->script, stmt->relation);

	/* what a script creates by name is a table, or CREATE TABLE AS's */
	char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) :
		created ? RELKIND_RELATION : '\0';
	bool		is_index = (relkind == RELKIND_INDEX ||
							relkind == RELKIND_PARTITIONED_INDEX);
	RelEffect  *eff;

	if (stmt->renameType == OBJECT_INDEX && is_index)
	{
		(void) effect_for_rangevar(insp, stmt->relation,
								   ShareUpdateExclusiveLock);
		return;
	}
	eff = effect_for_rangevar(insp, stmt->relation, AccessExclusiveLock);
	if (eff == NULL)
		return;
	/* what applications name in their queries: a breaking change */
	if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_MATVIEW ||
		(relkind == '\0' && stmt->renameType != OBJECT_INDEX))
		add_hazard(eff, RULE_RENAME_TABLE, (Node *) stmt, insp->sql,
				   stmt->newname, InvalidOid);
}

static void
inspect_rename(Inspection *insp, RenameStmt *stmt)
{
	RelEffect  *eff;

	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
		case OBJECT_MATVIEW:
		case OBJECT_INDEX:
		case OBJECT_VIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			inspect_rename_relation(insp, stmt);
			break;
		case OBJECT_COLUMN:
			if (stmt->relationType == OBJECT_VIEW ||
				stmt->relationType == OBJECT_FOREIGN_TABLE)
			{
				(void) effect_for_rangevar(insp, stmt->relation,
										   AccessExclusiveLock);
				break;
			}
			if (stmt->relationType != OBJECT_TABLE &&
				stmt->relationType != OBJECT_MATVIEW)
				break;
			eff = effect_for_rangevar(insp, stmt->relation, AccessExclusiveLock);
			if (eff)
				add_hazard(eff, RULE_RENAME_COLUMN, (Node *) stmt, insp->sql,
						   stmt->subname, InvalidOid);
			break;
		case OBJECT_TABCONSTRAINT:
			(void) effect_for_rangevar(insp, stmt->relation,
									   AccessExclusiveLock);
			break;
		case OBJECT_ATTRIBUTE:
			{
				/* RENAME ATTRIBUTE ... CASCADE renames the typed tables' columns */
				List	   *typed = cascade_typed_tables(stmt->relation,
														 stmt->behavior == DROP_CASCADE);
				ListCell   *lc;

				foreach(lc, typed)
					add_hazard(effect_for(insp, lfirst_oid(lc), NULL,
										  AccessExclusiveLock),
							   RULE_RENAME_COLUMN, (Node *) stmt, insp->sql,
							   stmt->subname, InvalidOid);
			}
			break;
		default:
			break;
	}
}

/* Does the statement say IF EXISTS about the relation it names? */
static bool
statement_missing_ok(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			return ((AlterTableStmt *) parsetree)->missing_ok;
		case T_RenameStmt:
			return ((RenameStmt *) parsetree)->missing_ok;
		case T_AlterObjectSchemaStmt:
			return ((AlterObjectSchemaStmt *) parsetree)->missing_ok;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->missing_ok;
		default:
			return false;
	}
}

/*
 * Inspect one statement.  Returns a list of RelEffect, one per relation it
 * touches, empty for statements we do not judge.
 */
List *
inspect_statement(Node *parsetree, const char *sql, ScriptState *script)
{
	Inspection	insp;

	insp.command = GetCommandTagName(CreateCommandTag(parsetree));
	insp.sql = sql;
	insp.script = script;
	insp.missing_ok = statement_missing_ok(parsetree);
	insp.effects = NIL;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			inspect_alter_table(&insp, (AlterTableStmt *) parsetree);
			break;
		case T_IndexStmt:
			inspect_index(&insp, (IndexStmt *) parsetree);
			break;
		case T_DropStmt:
			inspect_drop(&insp, (DropStmt *) parsetree);
			break;
		case T_ReindexStmt:
			inspect_reindex(&insp, (ReindexStmt *) parsetree);
			break;
		case T_ClusterStmt:
			if (((ClusterStmt *) parsetree)->relation != NULL)
				inspect_table_copy(&insp, ((ClusterStmt *) parsetree)->relation,
								   parsetree);
			break;
		case T_VacuumStmt:
			inspect_vacuum(&insp, (VacuumStmt *) parsetree);
			break;
		case T_RefreshMatViewStmt:
			inspect_refresh(&insp, (RefreshMatViewStmt *) parsetree);
			break;
		case T_TruncateStmt:
			inspect_truncate(&insp, (TruncateStmt *) parsetree);
			break;
		case T_RenameStmt:
			inspect_rename(&insp, (RenameStmt *) parsetree);
			break;
		case T_CreateTrigStmt:
			inspect_create_trigger(&insp, (CreateTrigStmt *) parsetree);
			break;
		case T_CreatePolicyStmt:
			inspect_policy(&insp, ((CreatePolicyStmt *) parsetree)->table);
			break;
		case T_AlterPolicyStmt:
			inspect_policy(&insp, ((AlterPolicyStmt *) parsetree)->table);
			break;
		case T_RuleStmt:
			inspect_rule(&insp, (RuleStmt *) parsetree);
			break;
		case T_LockStmt:
			inspect_lock_table(&insp, (LockStmt *) parsetree);
			break;
		case T_AlterObjectSchemaStmt:
			inspect_set_schema(&insp, (AlterObjectSchemaStmt *) parsetree);
			break;
		case T_CreateStmt:
			inspect_create_table(&insp, (CreateStmt *) parsetree);
			break;
		case T_CreateForeignTableStmt:
			inspect_create_table(&insp, &((CreateForeignTableStmt *) parsetree)->base);
			break;
		case T_AlterSeqStmt:
			inspect_alter_sequence(&insp, (AlterSeqStmt *) parsetree);
			break;
		case T_AlterObjectDependsStmt:
			inspect_object_depends(&insp, (AlterObjectDependsStmt *) parsetree);
			break;
		case T_ReassignOwnedStmt:
			inspect_reassign_owned(&insp, (ReassignOwnedStmt *) parsetree);
			break;
		case T_AlterTableMoveAllStmt:
			inspect_move_all(&insp, (AlterTableMoveAllStmt *) parsetree);
			break;
		case T_DropOwnedStmt:
			inspect_drop_owned(&insp, (DropOwnedStmt *) parsetree);
			break;
		case T_AlterDomainStmt:
			inspect_alter_domain(&insp, (AlterDomainStmt *) parsetree);
			break;
		case T_ViewStmt:
			inspect_replace_view(&insp, (ViewStmt *) parsetree);
			break;
		default:
			break;
	}
	return insp.effects;
}

/*
 * The columns a CHECK expression, as parsed, proves NOT NULL: "col IS NOT
 * NULL" terms, alone or AND-ed.  Anything else proves nothing here (the
 * engine may know better; then the dry run errs on the side of a warning).
 */
static List *
raw_not_null_columns(Node *expr)
{
	if (expr == NULL)
		return NIL;
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == AND_EXPR)
	{
		List	   *cols = NIL;
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
			cols = list_concat(cols, raw_not_null_columns(lfirst(lc)));
		return cols;
	}
	if (IsA(expr, NullTest) &&
		((NullTest *) expr)->nulltesttype == IS_NOT_NULL &&
		IsA(((NullTest *) expr)->arg, ColumnRef))
	{
		Node	   *last = llast(((ColumnRef *) ((NullTest *) expr)->arg)->fields);

		if (IsA(last, String))
			return list_make1(last);
	}
	return NIL;
}

/*
 * check() only: a CHECK, foreign key or not-null constraint that a script
 * statement adds, validates or (18) enforces
 */
static void
note_script_checks(AlterTableStmt *stmt, ScriptState *script)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		ScriptConstraint *sc = NULL;
		ListCell   *sl;

		if ((cmd->subtype == AT_AddConstraint
#ifdef MG_HAS_RECURSE_SUBTYPES
			 || cmd->subtype == AT_AddConstraintRecurse
#endif
			 ) && IsA(cmd->def, Constraint) &&
			(((Constraint *) cmd->def)->contype == CONSTR_CHECK ||
			 ((Constraint *) cmd->def)->contype == CONSTR_FOREIGN ||
			 ((Constraint *) cmd->def)->contype == CONSTR_NOTNULL))
		{
			Constraint *con = (Constraint *) cmd->def;

			sc = palloc0(sizeof(ScriptConstraint));
			sc->relid = relid;
			sc->conname = con->conname;
			sc->contype = con->contype;
			sc->validated = !con->skip_validation;
			if (con->contype == CONSTR_CHECK)
				sc->columns = raw_not_null_columns(con->raw_expr);
			else if (con->contype == CONSTR_NOTNULL)
				sc->columns = con->keys;	/* 18: ADD CONSTRAINT n NOT NULL col */
			else
				sc->pktable = con->pktable;
#ifdef MG_HAS_NOT_ENFORCED
			sc->not_enforced = !con->is_enforced;
#endif
			script->constraints = lappend(script->constraints, sc);
		}
		else if (cmd->subtype == AT_AddColumn
#ifdef MG_HAS_RECURSE_SUBTYPES
				 || cmd->subtype == AT_AddColumnRecurse
#endif
			)
		{
			ColumnDef  *col = castNode(ColumnDef, cmd->def);
			ScriptColumn *added = palloc(sizeof(ScriptColumn));

			added->relid = relid;
			added->colname = col->colname;
			added->type = col->typeName;
			script->columns = lappend(script->columns, added);
		}
		else if (is_validate_cmd(cmd))
		{
			foreach(sl, script->constraints)
			{
				ScriptConstraint *known = (ScriptConstraint *) lfirst(sl);

				if (known->relid == relid && known->conname != NULL &&
					strcmp(known->conname, cmd->name) == 0)
					sc = known;
			}
			if (sc == NULL)
			{
				sc = palloc0(sizeof(ScriptConstraint));
				sc->relid = relid;
				sc->conname = cmd->name;
				sc->in_catalog = true;
				script->constraints = lappend(script->constraints, sc);
			}
			sc->validated = true;
		}
#ifdef MG_HAS_NOT_ENFORCED
		else if (cmd->subtype == AT_AlterConstraint &&
				 IsA(cmd->def, ATAlterConstraint) &&
				 ((ATAlterConstraint *) cmd->def)->alterEnforceability)
		{
			ATAlterConstraint *alter = (ATAlterConstraint *) cmd->def;

			foreach(sl, script->constraints)
			{
				ScriptConstraint *known = (ScriptConstraint *) lfirst(sl);

				if (known->relid != relid || known->conname == NULL ||
					strcmp(known->conname, alter->conname) != 0)
					continue;
				known->not_enforced = !alter->is_enforced;
				if (alter->is_enforced)
					known->validated = true;	/* ENFORCED validates */
			}
		}
#endif
	}
}

/*
 * check() only: remember what a script statement leaves behind for later
 * statements of the script: relations it creates (new to them), the names
 * of the relations it makes, renames or moves (a later statement naming
 * them is not naming an unknown relation), and CHECKs and foreign keys it
 * adds or validates (what VALIDATE reads; proof for SET NOT NULL).
 */
void
inspect_note_script(Node *parsetree, ScriptState *script)
{
	RangeVar   *rv = NULL;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			rv = ((CreateStmt *) parsetree)->relation;
			note_created(script, rv);
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) parsetree)->into->rel;
			note_created(script, rv);
			break;
		case T_AlterTableStmt:
			if (((AlterTableStmt *) parsetree)->objtype == OBJECT_TABLE)
				note_script_checks((AlterTableStmt *) parsetree, script);
			break;
		case T_ViewStmt:
			rv = ((ViewStmt *) parsetree)->view;
			break;
		case T_CreateEnumStmt:
			note_type(script, ((CreateEnumStmt *) parsetree)->typeName, NULL, false);
			break;
		case T_CreateRangeStmt:
			note_type(script, ((CreateRangeStmt *) parsetree)->typeName, NULL, false);
			break;
		case T_CreateDomainStmt:
			{
				CreateDomainStmt *dom = (CreateDomainStmt *) parsetree;

				note_type(script, dom->domainname, dom->typeName,
						  dom->constraints != NIL);
				break;
			}
		case T_CreateSeqStmt:
			rv = ((CreateSeqStmt *) parsetree)->sequence;
			break;
		case T_CompositeTypeStmt:
			rv = ((CompositeTypeStmt *) parsetree)->typevar;
			note_type(script, rv->schemaname ?
					  list_make2(makeString(rv->schemaname), makeString(rv->relname)) :
					  list_make1(makeString(rv->relname)), NULL, false);
			break;
		case T_IndexStmt:
			if (((IndexStmt *) parsetree)->idxname != NULL)
				note_named(script, ((IndexStmt *) parsetree)->idxname);
			break;
		case T_SelectStmt:
			if (((SelectStmt *) parsetree)->intoClause != NULL)
				rv = ((SelectStmt *) parsetree)->intoClause->rel;
			else
				script->opaque = true;	/* a function may make anything */
			break;
		case T_RenameStmt:
			{
				RenameStmt *ren = (RenameStmt *) parsetree;

				/* the relation itself renamed (ALTER INDEX renames a table too) */
				if (ren->relation != NULL && ren->subname == NULL &&
					(ren->renameType == OBJECT_TABLE ||
					 ren->renameType == OBJECT_INDEX ||
					 ren->renameType == OBJECT_SEQUENCE ||
					 ren->renameType == OBJECT_VIEW ||
					 ren->renameType == OBJECT_MATVIEW ||
					 ren->renameType == OBJECT_FOREIGN_TABLE))
				{
					if (created_in_script(script, ren->relation))
					{
						RangeVar   *to = copyObject(ren->relation);

						to->relname = ren->newname;
						note_created(script, to);
					}
					else
						note_renamed(script, ren->newname,
									 note_gone(script, ren->relation));
					note_named(script, ren->newname);
				}
				else if (ren->renameType == OBJECT_TABCONSTRAINT &&
						 ren->relation != NULL)
				{
					/* a name a later VALIDATE may use */
					ScriptConstraint *sc = palloc0(sizeof(ScriptConstraint));

					sc->relid = script_relid(script, ren->relation);
					sc->conname = ren->newname;
					sc->contype = CONSTR_CHECK;
					sc->in_catalog = sc->validated = true;
					script->constraints = lappend(script->constraints, sc);
				}
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *drop = (DropStmt *) parsetree;
				ListCell   *lc;

				if (drop->removeType != OBJECT_TABLE &&
					drop->removeType != OBJECT_INDEX &&
					drop->removeType != OBJECT_SEQUENCE &&
					drop->removeType != OBJECT_VIEW &&
					drop->removeType != OBJECT_MATVIEW &&
					drop->removeType != OBJECT_FOREIGN_TABLE)
					break;
				foreach(lc, drop->objects)
				{
					note_gone(script, makeRangeVarFromNameList((List *) lfirst(lc)));
				}
				break;
			}
		case T_AlterObjectSchemaStmt:
			rv = ((AlterObjectSchemaStmt *) parsetree)->relation;
			break;
		case T_VariableSetStmt:
			{
				VariableSetStmt *set = (VariableSetStmt *) parsetree;

				/* check() applies a SET of search_path; not RESET ALL */
				if (set->kind == VAR_RESET_ALL)
					script->opaque = true;
				break;
			}
		case T_CreateFunctionStmt:
			script->made_functions = true;
			break;
		case T_DoStmt:
		case T_CallStmt:
		case T_CreateExtensionStmt:
		case T_AlterExtensionStmt:
		case T_ImportForeignSchemaStmt:
			script->opaque = true;
			break;
		case T_CreateSchemaStmt:
			{
				CreateSchemaStmt *cs = (CreateSchemaStmt *) parsetree;

				if (cs->schemaname != NULL)
					script->schemas = lappend(script->schemas,
											  makeString(cs->schemaname));
				else
					script->opaque = true;	/* named after its role */
				if (cs->schemaElts != NIL)
					script->opaque = true;
				break;
			}
		default:
			break;
	}
	if (rv != NULL)
		note_named(script, rv->relname);
}

/*
 * PostgreSQL's error for a statement of a script that creates a relation in
 * a schema that is not there and that no earlier statement made, or under
 * a name that is taken (a migration checked against a database it was
 * already applied to must not pass); NULL if none.  Statements that create
 * a relation lock nothing that exists, so nothing else in check() looks at
 * their names.
 */
char *
inspect_script_create_error(Node *parsetree, ScriptState *script)
{
	RangeVar   *rv = NULL;
	bool		if_not_exists = false;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			rv = ((CreateStmt *) parsetree)->relation;
			if_not_exists = ((CreateStmt *) parsetree)->if_not_exists;
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) parsetree)->into->rel;
			if_not_exists = ((CreateTableAsStmt *) parsetree)->if_not_exists;
			break;
		case T_ViewStmt:
			rv = ((ViewStmt *) parsetree)->view;
			if_not_exists = ((ViewStmt *) parsetree)->replace;
			break;
		case T_CreateSeqStmt:
			rv = ((CreateSeqStmt *) parsetree)->sequence;
			if_not_exists = ((CreateSeqStmt *) parsetree)->if_not_exists;
			break;
		case T_CompositeTypeStmt:
			rv = ((CompositeTypeStmt *) parsetree)->typevar;
			if_not_exists = true;	/* a type's name: not looked at here */
			break;
		default:
			break;
	}
	if (rv == NULL || script->opaque)
		return NULL;
	if (rv->schemaname != NULL &&
		!OidIsValid(get_namespace_oid(rv->schemaname, true)))
	{
		foreach(lc, script->schemas)
		{
			if (strcmp(strVal(lfirst(lc)), rv->schemaname) == 0)
				return NULL;
		}
		return psprintf("schema \"%s\" does not exist", rv->schemaname);
	}
	if (!if_not_exists && script_name_taken(script, rv))
		return psprintf("relation \"%s\" already exists", rv->relname);
	return NULL;
}
