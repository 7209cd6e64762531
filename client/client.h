/*-------------------------------------------------------------------------
 *
 * client.h
 *	  The command-line dry run: what its parts share.
 *
 * main.c reads the options and connects; layout.c finds a migration
 * tool's files, their order and transaction shape (files.c reads them,
 * versions.c orders versions); history.c asks the tool's history table
 * which are applied; run_check.c joins them into one script, hands it to
 * migration_guard.check() and maps each finding back to its file and line;
 * report.c prints the findings.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/client.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CLIENT_H
#define MG_CLIENT_H

#include "libpq-fe.h"

/* Exit status */
#define EXIT_NOTHING_REFUSED	0
#define EXIT_REFUSED			1	/* something would be refused */
#define EXIT_TROUBLE			2	/* usage, connection or SQL error */

typedef enum Tool
{
	TOOL_AUTO,
	TOOL_PRISMA,
	TOOL_FLYWAY,
	TOOL_DIESEL,
	TOOL_GOOSE,
	TOOL_DBMATE,
	TOOL_PLAIN
} Tool;

typedef enum Shape
{
	SHAPE_TOOL,					/* as the tool runs it */
	SHAPE_FILE,					/* one transaction per file */
	SHAPE_STATEMENT				/* each statement on its own */
} Shape;

/* One migration: the part of one file that its tool runs */
typedef struct Migration
{
	char	   *path;			/* as printed: the user's PATH and the file */
	char	   *name;			/* the tool's name for it */
	char	   *version;		/* what the history table records */
	Tool		tool;
	char	   *text;			/* what the tool runs (the up section) */
	int			first_line;		/* line of the file where text starts */
	bool		in_transaction; /* the tool wraps it in a transaction */
	int			nstatements;	/* statements in text */

	/* where it is in the script handed to check() */
	int			script_line;	/* line of the script where text starts */
	int			script_end;		/* first line after text */
} Migration;

typedef struct MigrationList
{
	Migration  *items;
	int			n;
	int			cap;
} MigrationList;

typedef enum Severity
{
	SEV_BLOCK,
	SEV_WARN,
	SEV_ERROR,
	SEV_UNKNOWN
} Severity;

/* One statement the server would not run in silence */
typedef struct Finding
{
	const Migration *migration;
	int			line;			/* in the file */
	int			column;
	int			statement;		/* within the file, 1-based */
	Severity	severity;
	char	   *rule;			/* NULL for error and unknown */
	char	   *command;
	char	   *relation;
	char	   *lock_mode;
	char	   *size;			/* pg_size_pretty of table_bytes, or NULL */
	long long	table_bytes;	/* -1 when not measured */
	double		predicted_seconds;	/* its lock hold, -1 when not predicted */
	long long	est_rows;		/* -1 when not measured */
	char	   *message;
	char	   *detail;
	char	   *hint;
	char	   *recipe;			/* steps, one per line, or NULL */
} Finding;

typedef struct Report
{
	Finding    *items;
	int			n;
	int			cap;
	int			files;
	int			statements;
	int			count[4];		/* per Severity */
	char	   *sizes_from;		/* whose sizes judged it, or NULL */
} Report;

typedef enum Format
{
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_GITHUB
} Format;

/* main.c; 18 spells "does not return" pg_noreturn, in front */
#if PG_VERSION_NUM >= 180000
#define MG_NORETURN_BEFORE pg_noreturn
#define MG_NORETURN_AFTER
#else
#define MG_NORETURN_BEFORE
#define MG_NORETURN_AFTER pg_attribute_noreturn()
#endif
extern MG_NORETURN_BEFORE void fatal(const char *fmt,...)
			pg_attribute_printf(1, 2) MG_NORETURN_AFTER;
extern MG_NORETURN_BEFORE void fatal_query(PGconn *conn, const PGresult *res,
										   const char *what) MG_NORETURN_AFTER;

/* files.c */
extern char *read_file(const char *path);
extern int	utf8_char_length(const char *s);

/* versions.c */
extern int	version_cmp(const char *a, const char *b);
extern int	numeric_cmp(const char *a, size_t la, const char *b, size_t lb);

/* layout.c */
extern const char *tool_name(Tool tool);
extern Tool tool_lookup(const char *name);
extern void add_path(MigrationList *list, const char *path, Tool tool,
					 Shape shape);

/* sqlscan.c */
extern int	count_statements(const char *sql, bool *outside_transaction);

/* history.c */
extern void drop_applied(PGconn *conn, MigrationList *list);

/* run_check.c */
extern void run_check(PGconn *conn, MigrationList *list, const char *sizes,
					  Report *report);

/* report.c */
extern void stop_workflow_commands(FILE *stream);
extern void print_report(const Report *report, Format format, bool color);
extern const char *severity_name(Severity sev);

#endif							/* MG_CLIENT_H */
