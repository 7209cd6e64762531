/*-------------------------------------------------------------------------
 *
 * history.c
 *	  --pending: which migrations the tool's own history table records as
 *	  applied, so that only the others are checked.
 *
 *	  prisma   _prisma_migrations: finished, not rolled back
 *	  flyway   flyway_schema_history: successful, by version
 *	  diesel   __diesel_schema_migrations: by version
 *	  goose    goose_db_version: the latest row of a version says applied
 *	  dbmate   schema_migrations: by version
 *
 * A database without the table has applied nothing yet.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/history.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "client.h"

typedef struct HistoryQuery
{
	Tool		tool;
	const char *table;
	const char *query;			/* one text column: what is applied */
} HistoryQuery;

static const HistoryQuery history_queries[] = {
	{TOOL_PRISMA, "_prisma_migrations",
		"SELECT migration_name FROM _prisma_migrations "
		"WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"},
	{TOOL_FLYWAY, "flyway_schema_history",
		"SELECT version FROM flyway_schema_history "
		"WHERE success AND version IS NOT NULL"},
	{TOOL_DIESEL, "__diesel_schema_migrations",
		"SELECT version FROM __diesel_schema_migrations"},
	{TOOL_GOOSE, "goose_db_version",
		"SELECT version_id::text FROM ("
		" SELECT DISTINCT ON (version_id) version_id, is_applied"
		"   FROM goose_db_version ORDER BY version_id, id DESC) latest "
		"WHERE is_applied"},
	{TOOL_DBMATE, "schema_migrations",
		"SELECT version FROM schema_migrations"},
};

static PGresult *
query_or_die(PGconn *conn, const char *sql, const char *param)
{
	PGresult   *res = PQexecParams(conn, sql, param ? 1 : 0, NULL,
								   param ? &param : NULL, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fatal("could not read the migration history: %s",
			  PQerrorMessage(conn));
	return res;
}

static bool
same_version(Tool tool, const char *applied, const char *version)
{
	if (tool == TOOL_FLYWAY)
		return version_cmp(applied, version) == 0;
	if (tool == TOOL_GOOSE)
		return numeric_cmp(applied, strlen(applied), version,
						   strlen(version)) == 0;
	return strcmp(applied, version) == 0;
}

/* Remove from list the migrations that the history table says are applied */
void
drop_applied(PGconn *conn, MigrationList *list)
{
	Tool		tool;
	const HistoryQuery *hq = NULL;
	PGresult   *res;
	int			i,
				kept = 0;

	if (list->n == 0)
		return;
	tool = list->items[0].tool;
	for (i = 0; i < lengthof(history_queries); i++)
		if (history_queries[i].tool == tool)
			hq = &history_queries[i];
	if (hq == NULL)
		fatal("--pending needs a migration tool's layout; \"%s\" files have no history table",
			  tool_name(tool));
	for (i = 1; i < list->n; i++)
		if (list->items[i].tool != tool)
			fatal("--pending cannot mix migrations of %s and %s",
				  tool_name(tool), tool_name(list->items[i].tool));

	res = query_or_die(conn, "SELECT to_regclass($1) IS NOT NULL", hq->table);
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		PQclear(res);
		return;					/* nothing applied yet */
	}
	PQclear(res);

	res = query_or_die(conn, hq->query, NULL);
	for (i = 0; i < list->n; i++)
	{
		Migration  *m = &list->items[i];
		bool		applied = false;
		int			r;

		for (r = 0; r < PQntuples(res) && !applied; r++)
			applied = !PQgetisnull(res, r, 0) &&
				same_version(tool, PQgetvalue(res, r, 0), m->version);
		if (!applied)
			list->items[kept++] = *m;
	}
	list->n = kept;
	PQclear(res);
}
