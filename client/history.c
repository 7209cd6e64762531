/*-------------------------------------------------------------------------
 *
 * history.c
 *	  --pending: which migrations the tool's own history table records as
 *	  applied, so that only the others are checked.
 *
 *	  prisma   _prisma_migrations: finished, not rolled back
 *	  flyway   flyway_schema_history: successful, by version; a BASELINE
 *			   row applies every version up to its own
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
#include "common/logging.h"

typedef struct HistoryQuery
{
	Tool		tool;
	const char *table;

	/*
	 * Two columns: a version applied, and whether every version up to it
	 * is (Flyway's baseline)
	 */
	const char *query;
} HistoryQuery;

static const HistoryQuery history_queries[] = {
	{TOOL_PRISMA, "_prisma_migrations",
		"SELECT migration_name, false FROM _prisma_migrations "
		"WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"},
	{TOOL_FLYWAY, "flyway_schema_history",
		"SELECT version, type = 'BASELINE' FROM flyway_schema_history "
		"WHERE success AND version IS NOT NULL"},
	{TOOL_DIESEL, "__diesel_schema_migrations",
		"SELECT version, false FROM __diesel_schema_migrations"},
	{TOOL_GOOSE, "goose_db_version",
		"SELECT version_id::pg_catalog.text, false FROM ("
		" SELECT DISTINCT ON (version_id) version_id, is_applied"
		"   FROM goose_db_version ORDER BY version_id, id DESC) latest "
		"WHERE is_applied"},
	{TOOL_DBMATE, "schema_migrations",
		"SELECT version, false FROM schema_migrations"},
};

static PGresult *
query_or_die(PGconn *conn, const char *sql, const char *param)
{
	PGresult   *res = PQexecParams(conn, sql, param ? 1 : 0, NULL,
								   param ? &param : NULL, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fatal_query(conn, res, "could not read the migration history");
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
	size_t		q;
	int			i,
				kept = 0;

	if (list->n == 0)
		return;
	tool = list->items[0].tool;
	for (q = 0; q < lengthof(history_queries); q++)
		if (history_queries[q].tool == tool)
			hq = &history_queries[q];
	if (hq == NULL)
	{
		pg_log_error("%s migrations have no history table for --pending to read",
					 tool_name(tool));
		pg_log_error_hint("Use --pending with the migrations of prisma, flyway, diesel, goose or dbmate, or with --tool to name their tool.");
		exit(EXIT_TROUBLE);
	}
	for (i = 1; i < list->n; i++)
		if (list->items[i].tool != tool)
			fatal("--pending cannot mix migrations of %s and %s",
				  tool_name(tool), tool_name(list->items[i].tool));

	res = query_or_die(conn, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", hq->table);
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
		{
			const char *version = PQgetvalue(res, r, 0);

			if (PQgetisnull(res, r, 0))
				continue;
			if (strcmp(PQgetvalue(res, r, 1), "t") == 0)
				applied = version_cmp(m->version, version) <= 0;	/* baseline */
			else
				applied = same_version(tool, version, m->version);
		}
		if (!applied)
			list->items[kept++] = *m;
	}
	list->n = kept;
	PQclear(res);
}
