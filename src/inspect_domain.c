/*-------------------------------------------------------------------------
 *
 * inspect_domain.c
 *	  Inspect ALTER DOMAIN: a new or validated constraint of a domain is
 *	  checked against every stored value of every column of that domain.
 *
 * ADD CONSTRAINT (unless NOT VALID), SET NOT NULL and VALIDATE CONSTRAINT
 * take SHARE on every relation with a column of the domain, or of a
 * domain over it, and scan each table and materialized view among them
 * (commands/typecmds.c, get_rels_with_domain and validateDomainConstraint):
 * writes to those tables wait for the whole scan.  Unlike a table's
 * VALIDATE CONSTRAINT there is no weaker form: NOT VALID checks new values
 * only, and validating later takes the same SHARE locks.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect_domain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "inspect_int.h"

/* A domain nested this deep is not followed further */
#define DOMAIN_MAX_DEPTH 16

/* Does this ALTER DOMAIN check stored values? */
bool
alter_domain_scans(AlterDomainStmt *stmt)
{
	switch (stmt->subtype)
	{
		case 'O':				/* SET NOT NULL */
		case 'V':				/* VALIDATE CONSTRAINT */
			return true;
		case 'C':				/* ADD CONSTRAINT */
			{
				Constraint *con = (Constraint *) stmt->def;

				return con != NULL && IsA(con, Constraint) &&
					(con->contype == CONSTR_CHECK ||
					 con->contype == CONSTR_NOTNULL) &&
					!con->skip_validation;
			}
		default:
			return false;
	}
}

/* Every relation with a column of this domain, or of a domain over it */
static void
add_domain_users(Inspection *insp, AlterDomainStmt *stmt, Oid typid,
				 int depth)
{
	Relation	depend;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (depth > DOMAIN_MAX_DEPTH)
		return;
	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL,
							  2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid == TypeRelationId &&
			get_typtype(dep->objid) == TYPTYPE_DOMAIN)
			add_domain_users(insp, stmt, dep->objid, depth + 1);
		else if (dep->classid == RelationRelationId && dep->objsubid > 0)
		{
			char		relkind = get_rel_relkind(dep->objid);
			RelEffect  *eff;

			if (relkind == '\0' || relkind == RELKIND_COMPOSITE_TYPE)
				continue;
			eff = effect_for(insp, dep->objid, NULL, ShareLock);
			if ((relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW) &&
				!eff->scan)
			{
				eff->scan = true;
				add_hazard(eff, stmt->subtype == 'O' ? RULE_SET_NOT_NULL :
						   RULE_ADD_CHECK, (Node *) stmt, insp->sql,
						   TypeNameToString(makeTypeNameFromNameList(stmt->typeName)),
						   InvalidOid);
			}
		}
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
}

/* ALTER DOMAIN: the tables whose stored values a new constraint checks */
void
inspect_alter_domain(Inspection *insp, AlterDomainStmt *stmt)
{
	Oid			typid;

	if (!alter_domain_scans(stmt))
		return;
	typid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(stmt->typeName),
							  true);
	if (OidIsValid(typid) && get_typtype(typid) == TYPTYPE_DOMAIN)
		add_domain_users(insp, stmt, typid, 0);
}
